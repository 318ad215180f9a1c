// What the VM benchmarks compare the operator with, and what they share: the operator's vSphere work for N VMs
// (look-up by instance UUID, OVF deploy with the ConfigSpec, read-back, power on) done directly with vmop's
// vSphere client at a bound of operations in flight — with the change feed the operator keeps open, or
// without it — and the benchmark's own manager process, started and waited for.
import { randomUUID } from 'node:crypto';
import { readProviderConfig } from '../src/cli/provider-config.js';
import { httpStatus } from '../src/devenv/ground.js';
import { OPERATOR_NAMESPACE, VSAN_DEFAULT_POLICY_ID } from '../src/devenv/seed.js';
import { buildConfigSpec } from '../src/providers/vsphere/config-spec.js';
import { Placement } from '../src/providers/vsphere/placement.js';
import { FEED_SHAPE, VM_PATHS } from '../src/providers/vsphere/vm-inventory.js';
import type { KubeObject } from '../src/runtime/kube-client.js';
import { ChangeFeed } from '../src/vsphere/change-feed.js';
import { VimFault } from '../src/vsphere/faults.js';
import { PbmClient } from '../src/vsphere/pbm.js';
import { encodeDocument, type MoRef } from '../src/vsphere/vim25/codec.js';
import { benchNamespace, pool, spawnManager, type BenchSession } from './processes.js';

export { API } from './api-version.js';
import { API } from './api-version.js';
export const PHOTON = 'vmi-3044b59f15d847781';

/** The Photon image's library item, once the session's image controller has mirrored it. */
export async function photonItem(b: BenchSession): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const img = await b.kube
      .get<KubeObject & { status?: { providerItemID?: string } }>(API, 'ClusterVirtualMachineImage', PHOTON)
      .catch(() => undefined);
    if (img?.status?.providerItemID) return img.status.providerItemID;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`ClusterVirtualMachineImage ${PHOTON} did not appear`);
}

/** The operator's vSphere work, done directly. */
export class DirectVMs {
  private constructor(
    readonly conn: Awaited<ReturnType<BenchSession['vsphere']['connect']>>,
    readonly placement: Placement,
    private readonly itemID: string,
    private readonly network: string,
  ) {}

  static async connect(b: BenchSession): Promise<DirectVMs> {
    const { config, credentials } = await readProviderConfig(b.kube, OPERATOR_NAMESPACE);
    const conn = await b.vsphere.connect(config, credentials);
    const placement = new Placement(conn.api, new PbmClient(conn.api.client), config);
    return new DirectVMs(conn, placement, await photonItem(b), config.network);
  }

  /** Powers off (when on) and destroys the VMs, `concurrency` at once. */
  destroy(refs: MoRef[], concurrency: number): Promise<void> {
    return pool(refs.length, concurrency, async (i) => {
      // (One already off refuses the power-off; the destroy still says if anything else is wrong.)
      await this.conn.api.powerOff(refs[i]!).catch(() => undefined);
      await this.conn.api.destroy(refs[i]!);
    });
  }

  /** The VMs in a namespace's folder (looked at again when one goes while they are read). */
  async inFolder(namespace: string): Promise<{ obj: MoRef; name: string }[]> {
    const folder = await this.placement.folder(namespace);
    for (let attempt = 1; ; attempt++) {
      try {
        const list = await this.conn.api.pc.containerObjects(['VirtualMachine'], ['name'], { container: folder });
        return list.map((o) => ({ obj: o.obj, name: o.props.name as string }));
      } catch (err) {
        if (!(err instanceof VimFault && err.is('ManagedObjectNotFound')) || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * Creates and powers on N VMs named LABEL-i in folder bench-floor, `concurrency` at once, with the change feed
   * open unless `feed` is false; they are destroyed again afterwards (not timed).
   */
  async floor(label: string, n: number, concurrency: number, feed = true): Promise<{ seconds: number }> {
    const { conn, placement } = this;
    const changes = feed ? new ChangeFeed(conn.api.client, { ...FEED_SHAPE, onUpdates: () => undefined }) : undefined;
    changes?.start();
    const refs: MoRef[] = [];
    let seconds: number;
    try {
      const cluster = await placement.cluster('zone-a');
      const folder = await placement.folder('bench-floor');
      const dc = await placement.datacenterRef();
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
            imageItemID: this.itemID,
            cpus: 2,
            memoryMiB: 4096,
            interfaces: ['eth0'],
          },
          { network: this.network },
        );
        const datastore = await placement.vmDatastore(cluster, VSAN_DEFAULT_POLICY_ID);
        const id = await conn.rest.deployOVF(
          this.itemID,
          { resourcePoolId: (cluster.props.resourcePool as MoRef).value, folderId: folder.value },
          {
            name,
            datastoreId: datastore.value,
            storageProfileId: VSAN_DEFAULT_POLICY_ID,
            vmConfigSpecXML: encodeDocument(spec, 'VirtualMachineConfigSpec'),
          },
        );
        const ref: MoRef = { type: 'VirtualMachine', value: id };
        refs.push(ref);
        await conn.api.pc.one(ref, VM_PATHS);
        await conn.api.powerOn(ref);
      });
      seconds = (Date.now() - t0) / 1000;
    } finally {
      await changes?.stop();
    }
    // Gone again, so every phase starts from the same inventory size.
    await this.destroy(refs, concurrency);
    return { seconds };
  }
}

/** The label that gives a benchmark's VMs to the benchmark's own manager. */
export const BENCH_LABEL = 'vmop.bench/manager';

/**
 * A namespace for the benchmark's VMs (class and storage quota) and the benchmark's own manager — the VM
 * controller only, for the VMs labelled with that namespace (`args` add to that) — once it is ready.
 */
export async function startBenchManager(
  b: BenchSession,
  args: string[],
): Promise<{ ns: string; proc: NonNullable<BenchSession['manager']>; health: number }> {
  const ns = `bench-${randomUUID().slice(0, 6)}`;
  await benchNamespace(b.kube, ns);
  const started = await spawnManager(b.session.ground.kubeconfig, [
    '--controllers',
    'virtualmachine',
    '--vm-selector',
    `${BENCH_LABEL}=${ns}`,
    ...args,
  ]);
  b.manager = started.proc;
  const healthy = () => httpStatus(`http://127.0.0.1:${started.health}/readyz`).catch(() => 0);
  for (let i = 0; i < 300 && (await healthy()) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  if ((await healthy()) !== 200) {
    throw new Error(
      `the benchmark's manager did not become ready (exit code ${started.proc.exitCode}); rerun with VMOP_BENCH_MANAGER_LOG=1`,
    );
  }
  return { ns, ...started };
}

/** Sums of the manager's call counters: SOAP and REST calls to vSphere, Kubernetes API requests. */
export async function callCounts(port: number): Promise<{ soap: number; rest: number; kube: number; text: string }> {
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
