// The manager's memory at scale: N VirtualMachines (in namespaces of their own, each with its class and
// storage quota) in the API server and N VMs in vcsim, both created directly — the objects through the API
// server, the VMs with CreateVM_Task carrying each object's owner keys and instance UUID — so the operator finds
// every VM already there and only adopts it: minutes, not hours. A manager of the benchmark's own (VM
// controller, volume provisioner and IPAM provider, as in a cluster) then starts and adopts them all. Prints
// its resident memory (after adopting and at its peak) against a floor measured in the same run — a bare Node
// process holding one informer's cache of the same VMs — and how often it listed and watched each kind.
// `npm run bench memory -- --vms 5000 --namespaces 50`.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readProviderConfig } from '../src/cli/provider-config.js';
import { httpStatus } from '../src/devenv/ground.js';
import { OPERATOR_NAMESPACE } from '../src/devenv/seed.js';
import { repoRoot } from '../src/devenv/toolchain.js';
import { buildConfigSpec } from '../src/providers/vsphere/config-spec.js';
import { Placement } from '../src/providers/vsphere/placement.js';
import { Informer } from '../src/runtime/informer.js';
import type { KubeObject } from '../src/runtime/kube-client.js';
import { PbmClient } from '../src/vsphere/pbm.js';
import type { MoRef } from '../src/vsphere/vim25/codec.js';
import { benchNamespace, flag, inBenchSession, peakRSSMiB, pool, rssMiB, spawnManager } from './processes.js';
import { table } from './stats.js';

import { API } from './api-version.js';
const PHOTON = 'vmi-3044b59f15d847781';
const LABEL = 'vmop.bench/memory';
const TARGET_MIB = 250;

type VM = KubeObject & { metadata: { uid?: string }; status?: { uniqueID?: string } };

/** Prints `what: done/total` every 15 s while `work` runs, so a long phase shows it is moving. */
async function withProgress<T>(what: string, total: number, done: () => number, work: Promise<T>): Promise<T> {
  const t0 = Date.now();
  const timer = setInterval(
    () => console.log(`  ${what}: ${done()}/${total} (${Math.round((Date.now() - t0) / 1000)} s)`),
    15_000,
  );
  try {
    return await work;
  } finally {
    clearInterval(timer);
    console.log(`${what}: ${done()}/${total} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** Lines of a Prometheus text page whose name matches, summed by one label's value. */
function sumBy(
  text: string,
  metric: string,
  label: string,
  where: Record<string, string | ((v: string | undefined) => boolean)>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(where).some(([k, v]) => (typeof v === 'function' ? !v(labels[k]) : labels[k] !== v))) continue;
    const key = labels[label] ?? '';
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

export async function benchMemory(): Promise<void> {
  const n = flag('vms', 5000);
  const namespaces = Math.min(n, flag('namespaces', 50));
  const concurrency = flag('concurrency', 16);
  console.log(`${n} VMs in ${namespaces} namespaces; starting a local control plane and vcsim ...`);
  await inBenchSession('vmop-bench-memory', async (b) => {
    const { session, kube, vsphere } = b;
    const run = randomUUID().slice(0, 6);
    const { config, credentials } = await readProviderConfig(kube, OPERATOR_NAMESPACE);
    const conn = await vsphere.connect(config, credentials);
    const placement = new Placement(conn.api, new PbmClient(conn.api.client), config);
    const cluster = await placement.cluster('zone-a');
    const resourcePool = cluster.props.resourcePool as MoRef;
    const datastores = (cluster.props.datastore as MoRef[] | undefined) ?? [];
    const dsName = datastores[0] && String((await conn.api.pc.one(datastores[0], ['name'])).name);
    if (!dsName) throw new Error('cluster of zone-a has no datastore');

    // Namespaces, each with its class and storage quota.
    const nsNames = Array.from({ length: namespaces }, (_, i) => `mem-${run}-${i}`);
    await pool(namespaces, 8, (i) => benchNamespace(kube, nsNames[i]!));

    // Each VM: its object first (its UID goes into the vSphere VM's owner keys), then its vSphere VM.
    let objects = 0;
    let vms = 0;
    const folders = new Map<string, MoRef>();
    for (const ns of nsNames) folders.set(ns, await placement.folder(ns));
    const firstUUID: string[] = [];
    await withProgress(
      'objects and vSphere VMs created',
      n,
      () => vms,
      pool(n, concurrency, async (i) => {
        const ns = nsNames[i % namespaces]!;
        const name = `vm-${i}`;
        const instanceUUID = randomUUID();
        const biosUUID = randomUUID();
        const obj = await kube.create<VM>({
          apiVersion: API,
          kind: 'VirtualMachine',
          metadata: { name, namespace: ns, labels: { [LABEL]: run, 'topology.kubernetes.io/zone': 'zone-a' } },
          spec: {
            className: 'bench-class',
            imageName: PHOTON,
            storageClass: 'my-storage-class',
            instanceUUID,
            biosUUID,
            powerState: 'PoweredOff',
          },
        });
        objects++;
        const spec = buildConfigSpec(
          {
            namespace: ns,
            name,
            uid: String(obj.metadata.uid),
            instanceUUID,
            biosUUID,
            zone: 'zone-a',
            imageItemID: 'bench',
            cpus: 2,
            memoryMiB: 4096,
            interfaces: ['eth0'],
          },
          { network: config.network },
        );
        await conn.api.createVM(
          folders.get(ns)!,
          {
            ...spec,
            name,
            guestId: 'otherGuest64',
            files: { _typeName: 'VirtualMachineFileInfo', vmPathName: `[${dsName}]` },
          },
          resourcePool,
        );
        vms++;
        if (i === 0) firstUUID.push(instanceUUID);
      }),
    );
    // The operator finds VMs by instance UUID: make sure vcsim kept the one it was given.
    const found = await conn.api.findVMByUuid(firstUUID[0]!, true);
    if (!found) throw new Error('vcsim did not keep the instance UUID of a created VM; the benchmark cannot go on');
    console.log(`${objects} objects and ${vms} vSphere VMs in place; starting the manager ...`);

    const started = await spawnManager(session.ground.kubeconfig, [
      '--controllers',
      'virtualmachine,volumeprovisioner,ipam',
      '--vm-selector',
      `${LABEL}=${run}`,
      '--orphan-grace',
      'off',
    ]);
    const proc = started.proc;
    b.manager = proc;
    const health = started.health;
    const adopted = new Set<string>();
    const watch = new Informer<VM>(kube, { apiVersion: API, kind: 'VirtualMachine', labelSelector: `${LABEL}=${run}` });
    const all = new Promise<void>((resolve) => {
      watch.on((event, vm) => {
        if (event !== 'delete' && vm.status?.uniqueID) adopted.add(`${vm.metadata.namespace}/${vm.metadata.name}`);
        if (adopted.size === n) resolve();
      });
    });
    watch.start();
    const t0 = Date.now();
    let peakDuring = 0;
    const sampler = setInterval(() => {
      void rssMiB(proc.pid!)
        .then((m) => (peakDuring = Math.max(peakDuring, m)))
        .catch(() => undefined);
    }, 500);
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) =>
        reject(new Error(`the manager exited (code ${code}); rerun with VMOP_BENCH_MANAGER_LOG=1`)),
      ),
    );
    try {
      await withProgress('VMs adopted by the manager', n, () => adopted.size, Promise.race([all, exited]));
    } finally {
      clearInterval(sampler);
    }
    const adoptSeconds = (Date.now() - t0) / 1000;
    await watch.stop();
    // Settled: the echo reconciles of the status writes are done.
    await new Promise((r) => setTimeout(r, 5000));
    if ((await httpStatus(`http://127.0.0.1:${health}/readyz`).catch(() => 0)) !== 200)
      throw new Error('the manager is not ready after adopting the VMs');
    const steady = await rssMiB(proc.pid!);
    const peak = await peakRSSMiB(proc.pid!);
    const text = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
    const requests = (verb: string, ok: boolean) =>
      sumBy(text, 'vmop_kube_api_requests_total', 'resource', { verb, code: (c) => (c === '200') === ok });
    const [lists, watches, refused] = [requests('list', true), requests('watch', true), requests('list', false)];

    // The floor: one informer's cache of the same VMs in a bare Node process.
    const floor = await new Promise<{ rssMiB: number }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--expose-gc',
          path.join(repoRoot(), 'dist', 'bench', 'memory-floor.js'),
          session.ground.kubeconfig,
          `${LABEL}=${run}`,
          String(n),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.once('exit', (code) =>
        code === 0 ? resolve(JSON.parse(out) as { rssMiB: number }) : reject(new Error(`floor exited ${code}`)),
      );
    });

    const kinds = [...new Set([...lists.keys(), ...watches.keys(), ...refused.keys()])].sort();
    console.log(
      table(
        ['figure', 'measured', 'target'],
        [
          [`manager RSS, ${n} VMs adopted and settled (MiB)`, steady, `≤ ${TARGET_MIB}`],
          ['manager peak RSS (MiB)', Math.max(peak, peakDuring), `≤ ${TARGET_MIB}`],
          ['floor: one informer of the same VMs in a bare Node process (MiB)', floor.rssMiB, '-'],
          ['ratio manager / floor (settled)', steady / floor.rssMiB, '-'],
          ['adopting every VM (s)', adoptSeconds, '-'],
        ],
      ),
    );
    console.log(
      table(
        ['kind (resource)', 'lists', 'watches', 'target', 'lists refused (e.g. a CRD not served yet)'],
        kinds.map((k) => [
          k,
          String(lists.get(k) ?? 0),
          String(watches.get(k) ?? 0),
          '1 / 1',
          String(refused.get(k) ?? 0),
        ]),
      ),
    );
  });
}
