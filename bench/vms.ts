// The VM controller at scale: N VirtualMachines applied at once, timed until all are PoweredOn and Ready
// through a manager process of the benchmark's own (VM controller only), against the floor — the same vSphere
// operations (look-up by instance UUID, OVF deploy with the ConfigSpec, read-back, power on)
// issued directly with vmop's vSphere client at the same concurrency. Prints the ratio, vSphere and API calls
// per VM, and the manager's peak RSS. `npm run bench vms -- --vms 1000 --concurrency 8`.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { httpStatus } from '../src/devenv/ground.js';
import { freePorts } from '../src/devenv/processes.js';
import {
  kubeConfigFrom,
  OPERATOR_NAMESPACE,
  storageClassAssociation,
  VSAN_DEFAULT_POLICY_ID,
} from '../src/devenv/seed.js';
import { startSession } from '../src/devenv/session.js';
import { repoRoot } from '../src/devenv/toolchain.js';
import { readProviderConfig } from '../src/providers/vsphere/config-source.js';
import { buildConfigSpec } from '../src/providers/vsphere/config-spec.js';
import { Placement } from '../src/providers/vsphere/placement.js';
import { VSphereSession } from '../src/providers/vsphere/session.js';
import { KubeClient, type KubeObject } from '../src/runtime/kube-client.js';
import { ChangeFeed } from '../src/vsphere/change-feed.js';
import { PbmClient } from '../src/vsphere/pbm.js';
import { VM_PATHS } from '../src/providers/vsphere/vm-inventory.js';
import { encodeDocument, type MoRef } from '../src/vsphere/vim25/codec.js';
import { table } from './stats.js';

const API = 'vmoperator.vmware.com/v1alpha3';
const PHOTON = 'vmi-3044b59f15d847781';
const LABEL = 'vmop.bench/manager';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}

/** Runs `work(i)` for i < n with at most `concurrency` at once. */
async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

async function metrics(port: number): Promise<{ soap: number; rest: number; kube: number; text: string }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (re: RegExp) =>
    text
      .split('\n')
      .filter((l) => re.test(l))
      .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return {
    soap: sum(/^vmop_vsphere_call_duration_seconds_count\{/),
    rest: sum(/^vmop_vsphere_rest_call_duration_seconds_count\{/),
    kube: sum(/^vmop_kube_api_requests_total\{/),
    text,
  };
}

async function peakRSSMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export async function benchVMs(): Promise<void> {
  const n = flag('vms', 200);
  const concurrency = flag('concurrency', 8);
  // The session's own manager leaves the benchmark's VMs to the benchmark's manager.
  process.env.VMOP_VM_SELECTOR = `!${LABEL}`;
  console.log(`${n} VMs, concurrency ${concurrency}; starting a local control plane and vcsim ...`);
  const session = await startSession({ prefix: 'vmop-bench-vms', webhookPrefix: 'vmop-bench-vms' });
  const kube = new KubeClient(kubeConfigFrom(session.ground.kubeconfig, 'admin'));
  const vsphere = new VSphereSession();
  let manager: ReturnType<typeof spawn> | undefined;
  let failed = true;
  try {
    // The image's library item, once the session's image controller has mirrored it.
    let itemID: string | undefined;
    for (let i = 0; i < 100 && !itemID; i++) {
      const img = await kube
        .get<KubeObject & { status?: { providerItemID?: string } }>(API, 'ClusterVirtualMachineImage', PHOTON)
        .catch(() => undefined);
      itemID = img?.status?.providerItemID;
      if (!itemID) await new Promise((r) => setTimeout(r, 200));
    }
    if (!itemID) throw new Error(`ClusterVirtualMachineImage ${PHOTON} did not appear`);

    // Floor: the operator's vSphere work for one VM, done directly.
    const { config, credentials } = await readProviderConfig(kube, OPERATOR_NAMESPACE);
    const conn = await vsphere.connect(config, credentials);
    const placement = new Placement(conn.api, new PbmClient(conn.api.client), config);
    const cluster = await placement.cluster('zone-a');
    const folder = await placement.folder('bench-floor');
    const dc = await placement.datacenterRef();
    /** The operator's vSphere work for N VMs, done directly; the VMs are destroyed again afterwards. */
    const floor = async (label: string): Promise<{ seconds: number; deployMs: number }> => {
      let deployMs = 0;
      const refs: MoRef[] = [];
      const t0 = Date.now();
      await pool(n, concurrency, async (i) => {
        const instanceUUID = randomUUID();
        const name = `${label}-${i}`;
        await conn.api.findVMByUuid(instanceUUID, true, dc);
        const spec = buildConfigSpec(
          {
            namespace: 'bench-floor',
            name,
            uid: name,
            instanceUUID,
            biosUUID: randomUUID(),
            zone: 'zone-a',
            imageItemID: itemID!,
            cpus: 2,
            memoryMiB: 4096,
            interfaces: ['eth0'],
          },
          { network: config.network },
        );
        const datastore = await placement.datastore(cluster, VSAN_DEFAULT_POLICY_ID, `bench-floor/${name}`);
        const t = performance.now();
        const id = await conn.rest.deployOVF(
          itemID!,
          { resourcePoolId: (cluster.props.resourcePool as MoRef).value, folderId: folder.value },
          {
            name,
            datastoreId: datastore.value,
            storageProfileId: VSAN_DEFAULT_POLICY_ID,
            vmConfigSpecXML: encodeDocument(spec, 'VirtualMachineConfigSpec'),
          },
        );
        deployMs += performance.now() - t;
        const ref: MoRef = { type: 'VirtualMachine', value: id };
        refs.push(ref);
        await conn.api.pc.one(ref, ['name', 'runtime.powerState', 'runtime.host']);
        await conn.api.powerOn(ref);
      });
      const seconds = (Date.now() - t0) / 1000;
      // Gone again, so every phase starts from the same inventory size.
      await pool(refs.length, concurrency, async (i) => {
        await conn.api.powerOff(refs[i]!);
        await conn.api.destroy(refs[i]!);
      });
      return { seconds, deployMs: deployMs / n };
    };
    const bare = await floor('floor');
    console.log(
      `floor: ${n} VMs directly in ${bare.seconds.toFixed(1)} s (deploy call ${bare.deployMs.toFixed(0)} ms)`,
    );
    // The operator keeps one property-collector change feed over all VMs; vcsim re-reads a whole view for
    // every change it reports, which real vCenter does not. The same feed beside the floor shows that share.
    const feed = new ChangeFeed(conn.api.client, {
      types: ['VirtualMachine', 'HostSystem'],
      paths: VM_PATHS,
      onUpdates: () => undefined,
    });
    feed.start();
    const withFeed = await floor('floorfeed');
    await feed.stop();
    console.log(
      `floor with the change feed: ${withFeed.seconds.toFixed(1)} s (deploy call ${withFeed.deployMs.toFixed(0)} ms); now through the operator ...`,
    );
    const floorSeconds = bare.seconds;

    // Through the operator: a manager of our own, only the VM controller, only the benchmark's VMs.
    const ns = `bench-${randomUUID().slice(0, 6)}`;
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await kube.create({
      apiVersion: API,
      kind: 'VirtualMachineClass',
      metadata: { name: 'bench-class', namespace: ns },
      spec: { hardware: { cpus: 2, memory: '4Gi' } },
    });
    await kube.create(storageClassAssociation(ns, 'my-storage-class'));
    const [health] = (await freePorts(1)) as [number];
    manager = spawn(
      process.execPath,
      [
        path.join(repoRoot(), 'bin', 'vmop.js'),
        'manager',
        '--kubeconfig',
        session.ground.kubeconfig,
        '--context',
        'admin',
        '--health-addr',
        `127.0.0.1:${health}`,
        '--controllers',
        'virtualmachine',
        '--vm-selector',
        `${LABEL}=${ns}`,
        '--vm-concurrency',
        String(concurrency),
        '--log-level',
        process.env.VMOP_BENCH_LOG_LEVEL ?? 'warn',
      ],
      { stdio: ['ignore', process.env.VMOP_BENCH_MANAGER_LOG ? 'inherit' : 'ignore', 'inherit'] },
    );
    const ready = () => httpStatus(`http://127.0.0.1:${health}/readyz`).catch(() => 0);
    for (let i = 0; i < 300 && (await ready()) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    if ((await ready()) !== 200) {
      throw new Error(
        `the benchmark's manager did not become ready (exit code ${manager.exitCode}); rerun with VMOP_BENCH_MANAGER_LOG=1`,
      );
    }
    const before = await metrics(health);
    const start = Date.now();
    await pool(n, 32, async (i) => {
      await kube.create({
        apiVersion: API,
        kind: 'VirtualMachine',
        metadata: { name: `vm-${i}`, namespace: ns, labels: { [LABEL]: ns, 'topology.kubernetes.io/zone': 'zone-a' } },
        spec: { className: 'bench-class', imageName: PHOTON, storageClass: 'my-storage-class' },
      });
    });
    const createdSeconds = (Date.now() - start) / 1000;
    let done = 0;
    for (;;) {
      const list = await kube.request<{
        items: { status?: { powerState?: string; conditions?: { type: string; status: string }[] } }[];
      }>('GET', `/apis/${API}/namespaces/${ns}/virtualmachines`);
      done = list.items.filter(
        (v) =>
          v.status?.powerState === 'PoweredOn' &&
          v.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
      if (done === n) break;
      if (Date.now() - start > 30 * 60_000) throw new Error(`only ${done}/${n} VMs ready after 30 min`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const operatorSeconds = (Date.now() - start) / 1000;
    // Let the last status writes and their echo reconciles finish before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const after = await metrics(health);
    const rss = await peakRSSMiB(manager.pid!);
    if (process.env.VMOP_BENCH_METRICS) {
      console.log(
        after.text
          .split('\n')
          .filter((l) =>
            /^vmop_(reconcile_total|reconcile_duration_seconds_(sum|count)|vsphere_call_duration_seconds_(sum|count)|vsphere_rest_call_duration_seconds_(sum|count)|kube_api)/.test(
              l,
            ),
          )
          .join('\n'),
      );
    }
    const ratio = operatorSeconds / floorSeconds;
    const vsphereCalls = (after.soap - before.soap + after.rest - before.rest) / n;
    const apiCalls = (after.kube - before.kube) / n;
    console.log(
      table(
        ['figure', 'measured', 'target'],
        [
          [`floor: ${n} VMs with the vSphere client directly (s)`, floorSeconds, '-'],
          ['floor with the same change feed running (s)', withFeed.seconds, '-'],
          [`through the operator: apply → all PoweredOn and Ready (s)`, operatorSeconds, '-'],
          [`  of which creating the ${n} objects through the API server and webhooks (s)`, createdSeconds, '-'],
          ['ratio operator / floor', ratio, n <= 200 ? '≤ 1.3' : '-'],
          ['ratio operator / floor with the change feed', operatorSeconds / withFeed.seconds, '-'],
          ['vSphere calls per VM (SOAP + REST)', vsphereCalls, '≤ 15'],
          [
            '  of which SOAP / REST',
            `${((after.soap - before.soap) / n).toFixed(2)} / ${((after.rest - before.rest) / n).toFixed(2)}`,
            '',
          ],
          ['Kubernetes API calls per VM (manager)', apiCalls, '-'],
          ['manager peak RSS (MiB)', rss, n >= 1000 ? '≤ 200' : '-'],
        ],
      ),
    );
    failed = false;
  } finally {
    manager?.kill('SIGKILL');
    await vsphere.close().catch(() => undefined);
    kube.close();
    await session.stop({ keep: failed });
    if (failed) console.log(`kept ${session.dir} for inspection (logs/ has each component's log)`);
  }
}
