// What turns a running ground (or an existing cluster plus vcsim) into a working vmop environment, in the
// order that matters: the content library first (vcsim's seeded IDs give the items their usual names only
// when nothing else has talked to a fresh vcsim), then CRDs, the manager, its webhooks, and the objects the
// spec's examples and the provider need. `vmop dev up` and the throw-away sessions both use it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CONVERSION_PATH } from '../webhooks/conversion.js';
import { ensurePKI } from './pki.js';
import { NETWORK_CONFIGMAP } from '../controllers/virtualmachine/network-config.js';
import type { GroundState } from './ground.js';
import { installWebhooks, startOperator, stopOperator } from './operator.js';
import {
  applyObjects,
  exampleObjects,
  installCRDs,
  kubeConfigFrom,
  OPERATOR_NAMESPACE,
  providerObjects,
  providerTarget,
  seedContentLibrary,
} from './seed.js';
import { networkConfigMap, type NetworkDefaultsData } from '../install/deployment.js';
import { KubeAPIError, KubeClient } from '../runtime/kube-client.js';
import type { Progress } from './toolchain.js';

export interface ProvisionOptions {
  ground: GroundState;
  dir: string;
  kubeconfig: string;
  context?: string;
  healthPort: number;
  webhookPort: number;
  webhookPrefix: string;
  /** See OperatorOptions.volumeProvisioner. */
  volumeProvisioner?: boolean;
  /** See OperatorOptions.controllers. */
  controllers?: string[];
  /**
   * Global DNS for ConfigMap vmop-network-config, created with these values when the operator namespace has
   * none (an existing one is left as its administrator wrote it). Without it no ConfigMap is made.
   */
  networkDefaults?: NetworkDefaultsData;
  progress?: Progress;
}

/** The global DNS `vmop dev up` gives ConfigMap vmop-network-config, as a Supervisor's install does (the spec's values). */
export const DEV_NETWORK_DEFAULTS: NetworkDefaultsData = {
  nameservers: '8.8.8.8 8.8.4.4',
  searchDomains: 'hello.world fu.bar example.com',
};

/** Provisions the environment; if anything fails, a manager it started is stopped again. */
export async function provision(opts: ProvisionOptions): Promise<{ managerStarted: boolean }> {
  const say = opts.progress ?? (() => {});
  const { ground, dir } = opts;
  await seedContentLibrary({ govc: ground.tools.govc, url: ground.govcURL }, say);
  const client = new KubeClient(kubeConfigFrom(opts.kubeconfig, opts.context));
  let managerStarted = false;
  try {
    // The versioned kinds convert through the manager's webhook server, on loopback with the ground's CA.
    const ca = await readFile((await ensurePKI(path.join(dir, 'pki'))).caCert);
    await installCRDs(client, {
      url: `https://127.0.0.1:${opts.webhookPort}${CONVERSION_PATH}`,
      caBundle: ca.toString('base64'),
    });
    say('installed CRDs');
    managerStarted = await startOperator({
      dir,
      kubeconfig: opts.kubeconfig,
      context: opts.context,
      healthPort: opts.healthPort,
      webhookPort: opts.webhookPort,
      volumeProvisioner: opts.volumeProvisioner,
      controllers: opts.controllers,
    });
    if (managerStarted) say('started manager');
    await installWebhooks(client, opts.webhookPrefix, dir, opts.webhookPort);
    say('installed admission webhooks');
    await applyObjects(client, exampleObjects());
    await applyObjects(client, providerObjects(await providerTarget(ground)));
    if (opts.networkDefaults) {
      await client
        .create(networkConfigMap(OPERATOR_NAMESPACE, opts.networkDefaults))
        .then(() =>
          say(`seeded ConfigMap ${OPERATOR_NAMESPACE}/${NETWORK_CONFIGMAP} with global nameservers and search domains`),
        )
        .catch((err: unknown) => {
          if (!(err instanceof KubeAPIError && err.conflict)) throw err;
        });
    }
    say(
      'seeded namespace my-namespace, VirtualMachineClass my-vm-class, StorageClass my-storage-class, provider configuration',
    );
    return { managerStarted };
  } catch (err) {
    if (managerStarted) await stopOperator(dir);
    throw err;
  } finally {
    client.close();
  }
}
