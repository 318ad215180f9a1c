// Leader election hands work over without two managers acting on one VM at once. Three managers run
// in-process against the real API server over one in-memory provider whose power operations can be held:
// a leader stopped (SIGTERM) while a power operation is held keeps its Lease until that work has drained;
// a leader cut off from the API server stops acting when its renew deadline passes, before anyone else can
// take the Lease over. Every provider call on a VM is recorded with the manager that made it.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { VirtualMachineController } from '../../src/controllers/virtualmachine/controller.js';
import type { ObservedVM, PowerOperation, VMProvider } from '../../src/providers/interface.js';
import { EventRecorder } from '../../src/runtime/events.js';
import { KubeClient } from '../../src/runtime/kube-client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { Manager } from '../../src/runtime/manager.js';
import { InMemoryVMs } from '../support/fake-provider.js';
import { client, ground } from '../support/ground.js';
import { OWN_MANAGER_LABEL } from '../support/manager.js';
import { cuttableProxy, throughProxy, type CuttableProxy } from '../support/tcp-proxy.js';
import { rawPath, vmPath } from '../support/vm.js';
import { eventually, vm, vmName, vmNamespace, waitForGone, waitForPower } from '../support/vms.js';

interface Call {
  manager: string;
  vm: string;
  start: number;
  end?: number;
}

/** One manager's view of the shared provider: every call on a VM is recorded under the manager's name. */
function recorded(shared: InMemoryVMs, manager: string, calls: Call[], dead: () => boolean): VMProvider {
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>, uuidOf: (...args: A) => string) =>
    async (...args: A): Promise<R> => {
      // A manager that lost its lease would have exited: it makes no more calls.
      if (dead()) throw new Error(`${manager} is gone`);
      const call: Call = { manager, vm: uuidOf(...args), start: Date.now() };
      calls.push(call);
      try {
        return await fn(...args);
      } finally {
        call.end = Date.now();
      }
    };
  const byVM = (vm: ObservedVM, ..._rest: unknown[]) => vm.instanceUUID;
  return Object.assign(Object.create(shared) as VMProvider, {
    createVM: wrap(shared.createVM.bind(shared), (req) => req.instanceUUID),
    power: wrap(shared.power.bind(shared), byVM),
    destroyVM: wrap(shared.destroyVM.bind(shared), byVM),
    refreshVM: wrap(shared.refreshVM.bind(shared), byVM),
    watchVMs: shared.watchVMs.bind(shared),
  });
}

/** Two calls by different managers on one VM that overlap in time (a lost manager's calls end when it lost). */
function overlaps(calls: Call[], lostAt: Map<string, number>): string[] {
  const found: string[] = [];
  const endOf = (c: Call) => Math.min(c.end ?? Infinity, lostAt.get(c.manager) ?? Infinity);
  for (const a of calls) {
    for (const b of calls) {
      if (a.manager >= b.manager || a.vm !== b.vm) continue;
      if (a.start < endOf(b) && b.start < endOf(a)) found.push(`${a.manager} and ${b.manager} on ${a.vm}`);
    }
  }
  return found;
}

describe('leader hand-over', () => {
  let ns: string;
  let dir: string;
  const shared = new InMemoryVMs();
  const calls: Call[] = [];
  const lostAt = new Map<string, number>();
  const proxies = new Map<string, CuttableProxy>();
  const managers = new Map<string, { manager: Manager; done: Promise<void>; client: KubeClient }>();
  let gate: { open: () => void; promise: Promise<void> } | undefined;
  const hold = () => {
    let open = () => undefined as void;
    const promise = new Promise<void>((r) => (open = r));
    gate = { open, promise };
  };
  const c = client();

  /** Starts manager `id`, whose every request goes through a proxy of its own (to cut it off later). */
  async function startManager(id: string): Promise<void> {
    const kc = new KubeConfig();
    kc.loadFromFile(ground().kubeconfig);
    kc.setCurrentContext('admin');
    const proxy = await cuttableProxy(new URL(kc.getCurrentCluster()!.server));
    proxies.set(id, proxy);
    throughProxy(kc, proxy);
    const file = path.join(dir, `${id}.kubeconfig`);
    await writeFile(file, kc.exportConfig());
    const logger = createLogger({ level: 'silent' });
    const manager = new Manager({
      kubeconfig: file,
      healthHost: '127.0.0.1',
      healthPort: 0,
      logger,
      leaderElection: {
        namespace: ns,
        name: 'handover',
        identity: id,
        leaseDurationMs: 4000,
        renewDeadlineMs: 3000,
        retryPeriodMs: 500,
      },
      onLostLeadership: () => lostAt.set(id, Date.now()),
    });
    const kube = new KubeClient(manager.kubeConfig);
    manager.addLeaderElected(
      new VirtualMachineController({
        client: kube,
        provider: recorded(shared, id, calls, () => lostAt.has(id)),
        events: new EventRecorder(kube, `vmop-${id}`),
        logger,
        vmSelector: `${OWN_MANAGER_LABEL}=${ns}`,
        orphanGraceMs: 0,
      }),
    );
    managers.set(id, { manager, done: manager.run(), client: kube });
  }

  const holder = async () =>
    (
      await c
        .request<{ spec?: { holderIdentity?: string } }>(
          'GET',
          rawPath(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/handover`),
        )
        .catch(() => undefined)
    )?.spec?.holderIdentity;

  before(async () => {
    ns = await vmNamespace('handover');
    dir = await mkdtemp(path.join(os.tmpdir(), 'vmop-handover-'));
    shared.beforePower = async (_vm: ObservedVM, _op: PowerOperation) => {
      await gate?.promise;
    };
  });
  after(async () => {
    gate?.open();
    for (const { manager, done, client: k } of managers.values()) {
      manager.stop();
      await done.catch(() => undefined);
      k.close();
    }
    for (const p of proxies.values()) p.close();
    c.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a stopped leader keeps the Lease until its held work has drained; then the next one leads', async () => {
    await startManager('a');
    await eventually('a leads', async () => ((await holder()) === 'a' ? true : undefined), 60_000);
    await startManager('b');
    hold();
    const name = vmName('held');
    await c.create(vm(ns, name, {}, { [OWN_MANAGER_LABEL]: ns }));
    await eventually('a holds a power-on', async () =>
      calls.some((x) => x.manager === 'a' && x.end === undefined) ? true : undefined,
    );
    managers.get('a')!.manager.stop(); // SIGTERM
    // Twice the lease duration: the Lease stays with a, and b does nothing, while a's work is held.
    await new Promise((r) => setTimeout(r, 8000));
    assert.equal(await holder(), 'a', 'a keeps renewing the Lease while draining');
    assert.deepEqual(
      calls.filter((x) => x.manager === 'b'),
      [],
      'b made no call while a was still at work',
    );
    gate!.open();
    await managers.get('a')!.done;
    await eventually('b leads', async () => ((await holder()) === 'b' ? true : undefined), 60_000);
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    assert.deepEqual(overlaps(calls, lostAt), []);
  });

  it('a leader cut off from the API server stops acting before another takes over', async () => {
    await startManager('c');
    const b = managers.get('b')!;
    hold();
    const name = vmName('cut');
    await c.create(vm(ns, name, { powerState: 'PoweredOn' }, { [OWN_MANAGER_LABEL]: ns }));
    await eventually('b holds a power-on', async () =>
      calls.some((x) => x.manager === 'b' && x.end === undefined) ? true : undefined,
    );
    // b leads and holds a power-on; now it can no longer reach the API server (nor renew its Lease).
    proxies.get('b')!.cut = true;
    await eventually('b gives up the lead', async () => lostAt.get('b'), 30_000);
    await eventually('c leads', async () => ((await holder()) === 'c' ? true : undefined), 60_000);
    gate!.open();
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const cFirst = Math.min(...calls.filter((x) => x.manager === 'c').map((x) => x.start));
    assert.ok(cFirst > lostAt.get('b')!, 'c acted only after b had stopped acting');
    assert.deepEqual(overlaps(calls, lostAt), []);
    b.manager.stop();
    // Clean up through the leader (c), which releases the finalizers.
    for (const n of [name]) await c.request('DELETE', vmPath(ns, n));
    await waitForGone(c, ns, name, 60_000);
  });
});
