// The VM controller at scale: N VirtualMachines applied at once, timed until all are PoweredOn and Ready
// through a manager process of the benchmark's own (VM controller only), against the floor — the same vSphere
// operations (look-up by instance UUID, OVF deploy with the ConfigSpec, read-back, power on, and the change
// feed the operator keeps open) issued directly with vmop's vSphere client at the same concurrency, before and
// after the operator's run. Prints the ratio (and the floor without the feed), vSphere and API calls per VM,
// the manager's peak RSS and each process's CPU seconds per phase.
// `npm run bench vms -- --vms 1000 --concurrency 8`.
import { pidFile } from '../src/devenv/ground.js';
import { livePid } from '../src/devenv/processes.js';
import type { KubeObject } from '../src/runtime/kube-client.js';
import { Informer } from '../src/runtime/informer.js';
import { API, BENCH_LABEL, callCounts, DirectVMs, PHOTON, startBenchManager } from './floor.js';
import { CPUAccount, flag, inBenchSession, peakRSSMiB, pool, stopProcess } from './processes.js';
import { table } from './stats.js';

export async function benchVMs(): Promise<void> {
  const n = flag('vms', 200);
  const concurrency = flag('concurrency', 8);
  console.log(`${n} VMs, concurrency ${concurrency}; starting a local control plane and vcsim ...`);
  // The session's own manager serves the webhooks and mirrors the images, but runs no VM controller: its change
  // feed would be a second operator watching the same vCenter, in every phase of the measurement.
  await inBenchSession('vmop-bench-vms', async (b) => {
    const { session, kube } = b;
    const cpu = new CPUAccount();
    for (const name of ['vcsim', 'kube-apiserver', 'etcd', 'kube-controller-manager', 'manager'])
      cpu.add(name === 'manager' ? 'session manager' : name, await livePid(pidFile(session.dir, name)));
    cpu.add('benchmark', process.pid);

    // Floor: the operator's vSphere work, done directly.
    const direct = await DirectVMs.connect(b);
    /** One phase, timed, with the CPU each process spent in it. */
    const phase = async <T extends { seconds: number }>(label: string, run: () => Promise<T>): Promise<T> => {
      const before = await cpu.sample();
      const result = await run();
      console.log(`${label}: ${result.seconds.toFixed(1)} s; CPU s: ${CPUAccount.line(before, await cpu.sample())}`);
      return result;
    };
    // The operator keeps a property-collector change feed over all VMs open (drift detection needs it), so the
    // floor keeps the same feed open: it is one of the operator's vSphere operations. vcsim pays for it far
    // more than vCenter does (it re-collects the whole view for each change anywhere in its inventory), so
    // the floor without it is printed too.
    const withFeed = (label: string) => direct.floor(label, n, concurrency);
    const bare = await phase('floor without the change feed', () => direct.floor('bare', n, concurrency, false));
    // vcsim slows down as its history grows, so the floor is taken before and after the operator's run.
    const floorBefore = await phase('floor', () => withFeed('floor'));
    console.log('now through the operator ...');

    // Through the operator: a manager of our own, only the VM controller, only the benchmark's VMs.
    const { ns, proc, health } = await startBenchManager(b, [
      '--vm-concurrency',
      String(concurrency),
      // The floor's in-flight bound: deploys run beside the reconciles, so the workers alone do not bound them.
      '--max-concurrent-creates',
      String(concurrency),
    ]);
    cpu.add('benchmark manager', proc.pid);
    const before = await callCounts(health);
    type VM = KubeObject & {
      status?: { powerState?: string; conditions?: { type: string; status: string }[] };
    };
    const watch = new Informer<VM>(kube, { apiVersion: API, kind: 'VirtualMachine', namespace: ns });
    const isReady = (v: VM) =>
      v.status?.powerState === 'PoweredOn' &&
      v.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    const ready = new Set<string>();
    const allReady = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${ready.size}/${n} VMs ready after 30 min`)), 30 * 60_000);
      timer.unref();
      watch.on((event, vm) => {
        if (event !== 'delete' && isReady(vm)) ready.add(vm.metadata.name!);
        if (ready.size === n) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    watch.start();
    await watch.waitForSync();
    const { seconds: operatorSeconds, createdSeconds } = await phase('through the operator', async () => {
      const start = Date.now();
      await pool(n, 32, async (i) => {
        await kube.create({
          apiVersion: API,
          kind: 'VirtualMachine',
          metadata: {
            name: `vm-${i}`,
            namespace: ns,
            labels: { [BENCH_LABEL]: ns, 'topology.kubernetes.io/zone': 'zone-a' },
          },
          spec: { className: 'bench-class', imageName: PHOTON, storageClass: 'my-storage-class' },
        });
      });
      const created = (Date.now() - start) / 1000;
      // Counted from a watch, not by listing every VM again and again: the lists would cost the API server more
      // CPU than the operator itself on a machine of two cores.
      await allReady;
      return { seconds: (Date.now() - start) / 1000, createdSeconds: created };
    });
    await watch.stop();
    // Let the last status writes and their echo reconciles finish before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const after = await callCounts(health);
    const rss = await peakRSSMiB(proc.pid!);
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
    // The operator's VMs go (its manager first, so that it does not recreate them), and the floor again. The
    // manager stops as it would in a cluster, so that its change feed leaves vcsim with it.
    await stopProcess(proc);
    const left = await direct.inFolder(ns);
    await direct.destroy(
      left.map((o) => o.obj),
      concurrency,
    );
    console.log(`destroyed the operator's ${left.length} VMs`);
    const floorAfter = await phase('floor again', () => withFeed('again'));
    const floorSeconds = (floorBefore.seconds + floorAfter.seconds) / 2;
    const ratio = operatorSeconds / floorSeconds;
    const vsphereCalls = (after.soap - before.soap + after.rest - before.rest) / n;
    const apiCalls = (after.kube - before.kube) / n;
    console.log(
      table(
        ['figure', 'measured', 'target'],
        [
          [
            `floor: ${n} VMs, the operator's vSphere operations and change feed directly, mean of before/after (s)`,
            floorSeconds,
            '-',
          ],
          [
            '  before / after the run through the operator (s)',
            `${floorBefore.seconds.toFixed(1)} / ${floorAfter.seconds.toFixed(1)}`,
            '',
          ],
          [`through the operator: apply → all PoweredOn and Ready (s)`, operatorSeconds, '-'],
          [`  of which creating the ${n} objects through the API server and webhooks (s)`, createdSeconds, '-'],
          ['ratio operator / floor', ratio, n <= 200 ? '≤ 1.3' : '-'],
          ['floor without the change feed (s)', bare.seconds, '-'],
          ['ratio operator / floor without the change feed', operatorSeconds / bare.seconds, '-'],
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
  });
}
