// The memory benchmark's floor, run as a process of its own: a bare Node process that holds what any operator
// of these VMs must hold — one informer's cache of the VirtualMachines — and prints its resident memory once
// the cache is full. `node dist/bench/memory-floor.js <kubeconfig> <label selector> <count>`.
import { API } from './api-version.js';
import { kubeConfigFrom } from '../src/devenv/seed.js';
import { Informer } from '../src/runtime/informer.js';
import { KubeClient } from '../src/runtime/kube-client.js';
import { createLogger } from '../src/runtime/logger.js';
import { rssMiB } from './processes.js';

async function main(): Promise<void> {
  const [kubeconfig, selector, count] = process.argv.slice(2);
  const client = new KubeClient(kubeConfigFrom(kubeconfig!, 'admin'));
  const vms = new Informer(client, {
    apiVersion: API,
    kind: 'VirtualMachine',
    labelSelector: selector,
    logger: createLogger({ level: 'silent' }),
  });
  vms.start();
  await vms.waitForSync();
  if (vms.list().length !== Number(count)) throw new Error(`floor: ${vms.list().length} VMs cached, ${count} expected`);
  (globalThis as { gc?: () => void }).gc?.();
  console.log(JSON.stringify({ rssMiB: await rssMiB(process.pid), vms: vms.list().length }));
  await vms.stop();
  client.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
