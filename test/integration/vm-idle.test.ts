// Idle VMs cost no vSphere calls: once a manager (of the test's own) has created its VMs, reconciling them
// again — here woken by label changes, as a resync would — reads vSphere only from its change-feed cache,
// also for a VM with many volumes attached (a reconcile's cost does not grow with them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client } from '../support/ground.js';
import { OWN_MANAGER_LABEL, startOwnManager, type OwnManager } from '../support/manager.js';
import { scrape } from '../support/metrics.js';
import { patchVM } from '../support/vm.js';
import { eventually, vm, vmName, vmNamespace, waitForPower } from '../support/vms.js';

/** vSphere calls by method (SOAP, and REST as "REST"), and successful VM reconciles, from a manager's /metrics. */
async function counts(port: number): Promise<{ calls: Map<string, number>; reconciles: number }> {
  const calls = new Map<string, number>();
  let reconciles = 0;
  for (const s of (await scrape(port)).samples) {
    const method =
      s.name === 'vmop_vsphere_call_duration_seconds_count'
        ? s.labels.method
        : s.name === 'vmop_vsphere_rest_call_duration_seconds_count'
          ? 'REST'
          : undefined;
    if (method) calls.set(method, (calls.get(method) ?? 0) + s.value);
    if (
      s.name === 'controller_runtime_reconcile_total' &&
      s.labels.controller === 'virtualmachine' &&
      s.labels.result === 'success'
    )
      reconciles = s.value;
  }
  return { calls, reconciles };
}

/** The manager's counts once its vSphere calls have not moved for 2 s in a row (at most a minute). */
async function quiet(port: number): Promise<Awaited<ReturnType<typeof counts>>> {
  let last = await counts(port);
  const deadline = Date.now() + 60_000;
  for (let still = 0; still < 2 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await counts(port);
    const moved = [...now.calls].some(([m, n]) => m !== 'WaitForUpdatesEx' && n !== (last.calls.get(m) ?? 0));
    still = moved ? 0 : still + 1;
    last = now;
  }
  return last;
}

describe('VM controller: idle VMs', () => {
  let c: KubeClient;
  let mgr: OwnManager | undefined;
  before(() => {
    c = client();
  });
  after(async () => {
    await mgr?.kill();
    c.close();
  });

  it(
    'reconciles VMs that exist without calling vSphere beyond the shared change feed',
    { timeout: 90_000 },
    async () => {
      const ns = await vmNamespace('vm-idle');
      mgr = await startOwnManager({ id: ns });
      const names = [0, 1, 2].map(() => vmName('idle'));
      for (const n of names) await c.create(vm(ns, n, {}, { [OWN_MANAGER_LABEL]: ns }));
      for (const n of names) await waitForPower(c, ns, n, 'PoweredOn', 60_000);
      // Let the echoes of the creates settle (on a loaded machine the change feed may report the new VMs a
      // while after their deploys).
      const before = await quiet(mgr.healthPort);
      for (const n of names) await patchVM(c, ns, n, { metadata: { labels: { poke: 'yes' } } });
      await eventually('three more reconciles', async () =>
        (await counts(mgr!.healthPort)).reconciles >= before.reconciles + names.length ? true : undefined,
      );
      await new Promise((r) => setTimeout(r, 1000));
      const after = await counts(mgr.healthPort);
      assert.ok(after.reconciles >= before.reconciles + names.length);
      const extra = [...after.calls].filter(
        ([method, n]) => method !== 'WaitForUpdatesEx' && n !== (before.calls.get(method) ?? 0),
      );
      assert.deepEqual(extra, [], 'no vSphere call besides the change feed');
    },
  );

  it(
    'reconciles a VM with six attached volumes after a label write without a vSphere call',
    { timeout: 180_000 },
    async () => {
      const ns = await vmNamespace('vm-idle-vol');
      const own = await startOwnManager({ id: ns });
      try {
        const claims = [0, 1, 2, 3, 4, 5].map((i) => `data-${i}`);
        for (const claim of claims) {
          await c.create({
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: claim, namespace: ns },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: '1Gi' } },
              storageClassName: 'my-storage-class',
            },
          });
        }
        const name = vmName('vols');
        await c.create(
          vm(
            ns,
            name,
            { volumes: claims.map((claim) => ({ name: claim, persistentVolumeClaim: { claimName: claim } })) },
            { [OWN_MANAGER_LABEL]: ns },
          ),
        );
        await waitForPower(c, ns, name, 'PoweredOn', 150_000);
        // (The volumes' attach operations and their echoes first.)
        const before = await quiet(own.healthPort);
        await patchVM(c, ns, name, { metadata: { labels: { poke: 'yes' } } });
        await eventually('one more reconcile', async () =>
          (await counts(own.healthPort)).reconciles > before.reconciles ? true : undefined,
        );
        await new Promise((r) => setTimeout(r, 1000));
        const after = await counts(own.healthPort);
        const extra = [...after.calls].filter(
          ([method, n]) => method !== 'WaitForUpdatesEx' && n !== (before.calls.get(method) ?? 0),
        );
        assert.deepEqual(extra, [], 'no vSphere call for the volumes already attached');
      } finally {
        await own.kill();
      }
    },
  );
});
