// A throw-away etcd and kube-apiserver (no vcsim, no manager) with vmop's CRD conversion webhook served in this
// process on loopback: for tests and benchmarks that install CRDs of their own making, which the shared ground's
// must never see.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ConversionClientConfig } from '../crd/definitions.js';
import { KubeClient } from '../runtime/kube-client.js';
import { createLogger } from '../runtime/logger.js';
import { conversionHandler, CONVERSION_PATH } from '../webhooks/conversion.js';
import { startWebhookServer } from '../webhooks/server.js';
import { startGround, stopGround, type GroundState } from './ground.js';
import { ensureWebhookCertDir } from './operator.js';
import { freePorts } from './processes.js';
import { kubeConfigFrom } from './seed.js';

export interface PrivateAPIServer {
  dir: string;
  ground: GroundState;
  /** As the ground's admin. */
  client: KubeClient;
  /** Where CRDs send ConversionReviews (this process), with the ground's CA. */
  conversion: ConversionClientConfig & { url: string; caBundle: string };
  stop(): Promise<void>;
}

export async function startPrivateAPIServer(prefix: string): Promise<PrivateAPIServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const [etcd, etcdPeer, apiserver, vcsim, webhookPort] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ground = await startGround({
    dir,
    ports: { etcd, etcdPeer, apiserver, vcsim },
    components: ['etcd', 'kube-apiserver'],
  });
  const client = new KubeClient(kubeConfigFrom(ground.kubeconfig, 'admin'));
  const server = await startWebhookServer({
    host: '127.0.0.1',
    port: webhookPort,
    certDir: await ensureWebhookCertDir(dir),
    handlers: { [CONVERSION_PATH]: conversionHandler },
    logger: createLogger({ level: 'warn' }),
  });
  return {
    dir,
    ground,
    client,
    conversion: {
      url: `https://127.0.0.1:${webhookPort}${CONVERSION_PATH}`,
      caBundle: (await readFile(ground.caCert)).toString('base64'),
    },
    async stop() {
      client.close();
      await server.close();
      await stopGround(dir, { purge: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
