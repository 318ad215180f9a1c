// Crash safety of the VM controller: a manager of the test's own (VM controller only) is SIGKILLed at random
// moments while it creates 50 VMs and again while it deletes them; after each phase vSphere holds exactly one
// VM per object (no duplicates, no orphans), with the instance UUIDs the objects asked for.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { VSphereAPI } from '../../src/vsphere/api.js';
import type { VimClient } from '../../src/vsphere/client.js';
import { client } from '../support/ground.js';
import { OWN_MANAGER_LABEL, startOwnManager, type OwnManager } from '../support/manager.js';
import { vmPath } from '../support/vm.js';
import { condition, getVM, vm, vmNamespace, type VMObject } from '../support/vms.js';
import { vimClient } from '../support/vsphere.js';

const COUNT = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs managers one after another, each killed after a random 0.4–2.5 s, until `done` or `kills` kills; then one that runs to the end. */
async function underCrashes(id: string, kills: number, done: () => Promise<boolean>, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let killed = 0;
  let mgr: OwnManager | undefined;
  try {
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`not done after ${ms} ms and ${killed} kills`);
      mgr = await startOwnManager({ id, log: !!process.env.VMOP_TEST_MANAGER_LOG });
      if (killed < kills) {
        await sleep(400 + Math.random() * 2100);
        await mgr.kill('SIGKILL');
        killed++;
        continue;
      }
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`not done after ${ms} ms and ${killed} kills`);
        await sleep(500);
      }
    }
  } finally {
    await mgr?.kill('SIGKILL');
  }
  return killed;
}

describe('VM controller: crashes', () => {
  let c: KubeClient;
  let vim: VimClient;
  before(async () => {
    c = client();
    vim = await vimClient();
  });
  after(async () => {
    c.close();
    await vim.logout();
  });

  async function vsphereVMs(ns: string): Promise<{ name: string; instanceUuid: string }[]> {
    const api = new VSphereAPI(vim);
    const folder = await api.findByInventoryPath(`/DC0/vm/${ns}`);
    if (!folder) return [];
    const list = await api.pc.containerObjects(['VirtualMachine'], ['name', 'config.instanceUuid'], {
      container: folder,
    });
    return list.map((o) => ({ name: String(o.props.name), instanceUuid: String(o.props['config.instanceUuid']) }));
  }

  it(
    `ends with exactly one VM per object after a manager is killed at random points during ${COUNT} creates and deletes`,
    { timeout: 600_000 },
    async () => {
      const ns = await vmNamespace('vm-crash');
      const suffix = ns.slice(ns.lastIndexOf('-') + 1);
      const names = Array.from({ length: COUNT }, (_, i) => `crash-${suffix}-${i}`);
      await Promise.all(names.map((n) => c.create(vm(ns, n, {}, { [OWN_MANAGER_LABEL]: ns }))));
      const objects = new Map<string, VMObject>();
      const allReady = async () => {
        const list = await Promise.all(names.map((n) => getVM(c, ns, n)));
        list.forEach((o) => objects.set(o.metadata.name!, o));
        return list.every((o) => o.status?.powerState === 'PoweredOn' && condition(o, 'Ready')?.status === 'True');
      };
      const createKills = await underCrashes(ns, 8, allReady, 300_000);
      assert.ok(createKills >= 1, 'the manager was killed at least once while creating');

      const vms = await vsphereVMs(ns);
      assert.equal(vms.length, COUNT, `vSphere holds ${vms.length} VMs for ${COUNT} objects`);
      assert.deepEqual(vms.map((v) => v.name).sort(), [...names].sort());
      assert.deepEqual(
        vms.map((v) => v.instanceUuid).sort(),
        names.map((n) => objects.get(n)!.spec.instanceUUID!).sort(),
        'every VM has the instance UUID of its object',
      );

      await Promise.all(names.map((n) => c.request('DELETE', vmPath(ns, n))));
      const allGone = async () => {
        const left = await Promise.all(
          names.map((n) =>
            getVM(c, ns, n).then(
              () => 1,
              () => 0,
            ),
          ),
        );
        return left.every((x) => x === 0);
      };
      await underCrashes(ns, 4, allGone, 240_000);
      assert.deepEqual(await vsphereVMs(ns), [], 'no VM is left behind in vSphere');
    },
  );
});
