// A throw-away local environment on free ports in a temporary folder: ground, CRDs, manager with webhooks,
// the spec's examples and vcsim's content library. The test suite and the benchmarks each run one.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KubeClient } from '../runtime/kube-client.js';
import { startGround, stopGround, type GroundState } from './ground.js';
import { installWebhooks, startOperator, stopOperator } from './operator.js';
import { freePorts } from './processes.js';
import {
  applyObjects,
  exampleObjects,
  installCRDs,
  kubeConfigFrom,
  providerObjects,
  providerTarget,
  seedContentLibrary,
} from './seed.js';
import type { Progress } from './toolchain.js';

export interface Session {
  dir: string;
  ground: GroundState;
  managerHealthPort: number;
  webhookPort: number;
  webhookPrefix: string;
  /** Stops everything; deletes the folder unless `keep`. */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

export async function startSession(opts: {
  prefix: string;
  webhookPrefix: string;
  progress?: Progress;
}): Promise<Session> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${opts.prefix}-`));
  const [etcd, etcdPeer, apiserver, vcsim, health, webhook] = (await freePorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const stop = async (o: { keep?: boolean } = {}) => {
    await stopOperator(dir);
    await stopGround(dir);
    if (!o.keep) await rm(dir, { recursive: true, force: true });
  };
  try {
    const ground = await startGround({ dir, ports: { etcd, etcdPeer, apiserver, vcsim }, progress: opts.progress });
    // First, before anything else talks to vcsim: its seeded IDs then give the items their usual names.
    await seedContentLibrary({ govc: ground.tools.govc, url: ground.govcURL });
    const client = new KubeClient(kubeConfigFrom(ground.kubeconfig, 'admin'));
    try {
      await installCRDs(client);
      await startOperator({
        dir,
        kubeconfig: ground.kubeconfig,
        context: 'admin',
        healthPort: health,
        webhookPort: webhook,
      });
      await installWebhooks(client, opts.webhookPrefix, dir, webhook);
      await applyObjects(client, exampleObjects());
      await applyObjects(client, providerObjects(await providerTarget(ground)));
    } finally {
      client.close();
    }
    return { dir, ground, managerHealthPort: health, webhookPort: webhook, webhookPrefix: opts.webhookPrefix, stop };
  } catch (err) {
    await stop({ keep: true });
    throw err;
  }
}
