// The controller runtime against the real API server: informer events and relist on 410, leader election
// between two candidates, and a controller that reconciles VirtualMachines (status, events, finalizer).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller } from '../../src/runtime/controller.js';
import { UserInputError } from '../../src/runtime/errors.js';
import { EventRecorder } from '../../src/runtime/events.js';
import { finalized } from '../../src/runtime/finalizer.js';
import { Informer } from '../../src/runtime/informer.js';
import type { KubeClient, KubeObject } from '../../src/runtime/kube-client.js';
import { LeaderElector } from '../../src/runtime/leader-election.js';
import { createLogger } from '../../src/runtime/logger.js';
import { setCondition, updateStatus, type Condition } from '../../src/runtime/status.js';
import { client, kubectl, testNamespace } from '../support/ground.js';
import { OWN_MANAGER_LABEL } from '../support/manager.js';
import { API, vmObject, rawPath } from '../support/vm.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(50);
  }
}

describe('controller runtime', () => {
  let c: KubeClient;
  let ns: string;
  const logger = createLogger({ level: 'silent' });
  before(async () => {
    c = client();
    ns = await testNamespace('runtime');
  });
  after(() => c.close());

  it('the informer sees adds, updates and deletes', async () => {
    const inf = new Informer(c, { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns });
    const events: string[] = [];
    inf.on((e, o) => events.push(`${e}:${o.metadata.name}`));
    inf.start();
    await inf.waitForSync();
    await c.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1', namespace: ns }, data: { a: '1' } });
    await until(() => events.includes('add:cm1'));
    await c.request('PATCH', rawPath(`/api/v1/namespaces/${ns}/configmaps/cm1`), {
      contentType: 'application/merge-patch+json',
      body: { data: { a: '2' } },
    });
    await until(() => events.includes('update:cm1'));
    assert.equal((inf.get(`${ns}/cm1`) as KubeObject & { data: { a: string } }).data.a, '2');
    await c.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1', namespace: ns } });
    await until(() => events.includes('delete:cm1'));
    assert.equal(inf.get(`${ns}/cm1`), undefined);
    await inf.stop();
  });

  it('elects exactly one leader; the other takes over within the lease after the leader stops renewing', async () => {
    const opts = {
      namespace: ns,
      name: 'vmop-leader',
      leaseDurationMs: 2000,
      renewDeadlineMs: 1500,
      retryPeriodMs: 200,
      logger,
    };
    const a = new LeaderElector(c, { ...opts, identity: 'a' });
    const b = new LeaderElector(c, { ...opts, identity: 'b' });
    const acA = new AbortController();
    const acB = new AbortController();
    const leaders: string[] = [];
    const runA = a.run(
      acA.signal,
      () => leaders.push('a'),
      () => leaders.push('a-lost'),
    );
    await until(() => a.isLeader);
    const runB = b.run(
      acB.signal,
      () => leaders.push('b'),
      () => leaders.push('b-lost'),
    );
    await sleep(800);
    assert.deepEqual(leaders, ['a']);
    assert.equal(b.isLeader, false);
    // "Kill" a: it stops renewing without releasing the lease.
    (a as unknown as { release: () => Promise<void> }).release = async () => undefined;
    acA.abort();
    await runA;
    const killedAt = Date.now();
    await until(() => b.isLeader, 6000);
    const takeover = Date.now() - killedAt;
    assert.ok(takeover <= 2000 + 500, `took over after ${takeover} ms`);
    const lease = await c.request<{ spec: { holderIdentity: string; leaseTransitions: number } }>(
      'GET',
      rawPath(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/vmop-leader`),
    );
    assert.equal(lease.spec.holderIdentity, 'b');
    assert.equal(lease.spec.leaseTransitions, 1);
    acB.abort();
    await runB;
    const released = await c.request<{ spec: { holderIdentity: string } }>(
      'GET',
      rawPath(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/vmop-leader`),
    );
    assert.equal(released.spec.holderIdentity, '', 'a clean stop releases the lease');
  });

  it('a reconcile that refuses its input waits for a change of the object, or for the recheck it asks for', async () => {
    const vms = new Informer(c, { apiVersion: API, kind: 'VirtualMachine', namespace: ns });
    const calls = new Map<string, number>();
    const ctrl = new Controller({
      name: 'test-refusal',
      logger,
      sources: [{ informer: vms }],
      reconciler: {
        async reconcile(key) {
          calls.set(key, (calls.get(key) ?? 0) + 1);
          // "fixed" waits for a change; "outside" looks again every 300 ms (its cause is not watched).
          const recheckAfterMs = key.endsWith('/refused-outside') ? 300 : null;
          throw new UserInputError(`${key} refused`, 'Refused', { recheckAfterMs });
        },
      },
    });
    const ac = new AbortController();
    const running = ctrl.start(ac.signal);
    try {
      // Labelled as a test's own, so the shared manager leaves them alone (its writes would be changes).
      const own = { [OWN_MANAGER_LABEL]: 'runtime-refusal' };
      await c.create(vmObject(ns, 'refused-fixed', {}, own));
      await c.create(vmObject(ns, 'refused-outside', {}, own));
      const fixed = `${ns}/refused-fixed`;
      await until(() => (calls.get(`${ns}/refused-outside`) ?? 0) >= 3 && calls.has(fixed), 30_000);
      assert.equal(calls.get(fixed), 1, 'refused input is not retried while nothing changes');
      assert.equal(ctrl.queue.holds(fixed), false, 'nor is it scheduled');
      await c.request('PATCH', rawPath(`/apis/${API}/namespaces/${ns}/virtualmachines/refused-fixed`), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { fixed: 'yes' } } },
      });
      await until(() => calls.get(fixed) === 2, 30_000);
    } finally {
      ac.abort();
      await running;
    }
  });

  it('a controller reconciles VMs: finalizer, status condition, event, and cleanup on delete', async () => {
    const FIN = 'vmoperator.vmware.com/virtualmachine';
    const vms = new Informer(c, { apiVersion: API, kind: 'VirtualMachine', namespace: ns });
    const events = new EventRecorder(c, 'vmop-test', logger);
    const cleaned: string[] = [];
    const ctrl = new Controller({
      name: 'test-vm',
      logger,
      sources: [{ informer: vms }],
      reconciler: {
        async reconcile(key) {
          const obj = vms.get(key);
          if (!obj) return;
          await finalized(c, obj as KubeObject & { metadata: { deletionTimestamp?: string } }, FIN, {
            cleanup: async (o) => {
              cleaned.push(key);
              return o;
            },
            apply: async (live) => {
              await updateStatus<KubeObject & { status?: { conditions?: Condition[] } }>(c, live, (s) => ({
                ...s,
                conditions: setCondition(s.conditions, {
                  type: 'Ready',
                  status: 'True',
                  reason: 'Reconciled',
                  message: 'seen by the test controller',
                }),
              }));
              await events.record(live, 'Normal', 'Reconciled', 'seen by the test controller');
            },
          });
        },
      },
    });
    const ac = new AbortController();
    const running = ctrl.start(ac.signal);
    try {
      // (Labelled away from the shared manager, whose VM controller would otherwise reconcile it too.)
      await c.create(vmObject(ns, 'ctrl-vm', {}, { [OWN_MANAGER_LABEL]: 'runtime-controller' }));
      const path = `/apis/${API}/namespaces/${ns}/virtualmachines/ctrl-vm`;
      await until(async () => {
        const vm = await c.request<KubeObject & { status?: { conditions?: Condition[] } }>('GET', rawPath(path));
        return vm.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
      });
      const vm = await c.request<KubeObject>('GET', rawPath(path));
      assert.deepEqual(vm.metadata.finalizers, [FIN]);
      const ev = await kubectl([
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        'involvedObject.name=ctrl-vm',
        '-o',
        'jsonpath={.items[*].reason}',
      ]);
      assert.match(ev.stdout, /Reconciled/);
      const wait = await kubectl(['wait', '--for=condition=Ready', '-n', ns, 'vm/ctrl-vm', '--timeout=10s']);
      assert.equal(wait.code, 0, wait.stderr);
      await c.delete({ apiVersion: API, kind: 'VirtualMachine', metadata: { name: 'ctrl-vm', namespace: ns } });
      await until(async () => (await kubectl(['get', 'vm', '-n', ns, 'ctrl-vm'])).code !== 0);
      assert.deepEqual(cleaned, [`${ns}/ctrl-vm`]);
    } finally {
      ac.abort();
      await running;
    }
  });
});
