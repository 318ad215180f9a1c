// `vmop migrate-storage`: after an upgrade that changed the storage version, rewrites every object of VM
// Operator's kinds in it and records that the older versions hold nothing any more (install/storage-migration).
import { HUB_VERSION } from '../api/versions.js';
import { migrateStorage } from '../install/storage-migration.js';
import { KubeClient } from '../runtime/kube-client.js';
import { loadKubeConfig } from '../runtime/manager.js';
import { parseArgs, stringFlag } from './args.js';

export const MIGRATE_FLAGS = { strings: ['kubeconfig', 'context'] } as const;

export async function migrateStorageCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, MIGRATE_FLAGS, 'migrate-storage');
  const client = new KubeClient(loadKubeConfig(stringFlag(args, 'kubeconfig'), stringFlag(args, 'context')));
  try {
    const results = await migrateStorage(client, (line) => process.stdout.write(`${line}\n`));
    const total = results.reduce((n, r) => n + r.rewritten, 0);
    process.stdout.write(`done: ${total} objects rewritten; every CRD now stores ${HUB_VERSION} only\n`);
    return 0;
  } finally {
    client.close();
  }
}
