// The VM controller against a vCenter as slow and faulty as a real one (vmop's vcsim launcher with the
// realistic profile, scaled down, and injected faults), each test with a vCenter and a manager of its own: a
// deploy longer than the minute a fixed client timeout would allow, a manager killed in the middle of a deploy,
// a power-off while ten deploys run, task faults that come and go, and sessions that expire during a deploy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { profileArgs, REALISTIC } from '../../src/devenv/vcenter-profile.js';
import { client } from '../support/ground.js';
import { operationsInFlight, ownVCenter, type OwnVCenter } from '../support/realistic.js';
import { condition, eventsFor, eventually, getVM, vmName, waitForPower } from '../support/vms.js';
import { patchVM } from '../support/vm.js';

/** The profile at a tenth of its times (a deploy 4.5 s, a power-off 0.2 s), jitter as real. */
const SCALE = 0.1;

async function withVCenter(prefix: string, flags: string[], test: (v: OwnVCenter) => Promise<void>): Promise<void> {
  const v = await ownVCenter(prefix, [...profileArgs('realistic', SCALE), ...flags]);
  try {
    await test(v);
  } finally {
    await v.stop();
  }
}

/** The reasons of the VM's Events, with their counts. */
async function reasons(ns: string, name: string): Promise<Map<string, number>> {
  const c = client();
  try {
    const out = new Map<string, number>();
    for (const e of await eventsFor(c, ns, name)) out.set(e.reason, (out.get(e.reason) ?? 0) + (e.count ?? 1));
    return out;
  } finally {
    c.close();
  }
}

describe('VM controller on a slow and faulty vCenter', { concurrency: true }, () => {
  it('deploys a VM whose deploy takes longer than a minute, showing its progress', { timeout: 300_000 }, async () => {
    await withVCenter('rl-long', ['-deploy-delay', '65s', '-delay-jitter', '0'], async (v) => {
      const c = client();
      try {
        await v.manager();
        const name = vmName('long');
        const t0 = Date.now();
        await c.create(v.vm(name));
        // While it deploys, `kubectl get vm` and the conditions say so.
        const deploying = await eventually(
          'the Deploying condition',
          async () => {
            const obj = await getVM(c, v.ns, name);
            return condition(obj, 'VirtualMachineCreated')?.reason === 'Deploying' ? obj : undefined;
          },
          60_000,
        );
        assert.match(condition(deploying, 'VirtualMachineCreated')!.message ?? '', /deploying .*photon-own-vcenter/);
        await waitForPower(c, v.ns, name, 'PoweredOn', 240_000);
        assert.ok(Date.now() - t0 >= 65_000, 'the deploy took its 65 s');
        const seen = await reasons(v.ns, name);
        assert.equal(seen.get('CreateFailed'), undefined, 'no deploy failed (no client timeout cut it short)');
        assert.ok(seen.get('Creating'), 'an Event said the deploy started');
        assert.deepEqual(await v.vmNames(), [name]);
      } finally {
        c.close();
      }
    });
  });

  it(
    'finds a deploy again after its manager is killed in the middle of it, and makes no second VM',
    { timeout: 300_000 },
    async () => {
      await withVCenter('rl-kill', ['-deploy-delay', '20s'], async (v) => {
        const c = client();
        try {
          const first = await v.manager();
          const name = vmName('kill');
          await c.create(v.vm(name));
          await eventually(
            'the deploy under way',
            async () =>
              condition(await getVM(c, v.ns, name), 'VirtualMachineCreated')?.reason === 'Deploying' || undefined,
            60_000,
          );
          await first.kill('SIGKILL');
          const second = await v.manager();
          await waitForPower(c, v.ns, name, 'PoweredOn', 180_000);
          // Whatever the second manager started has ended (a second deploy would have had its time by then).
          await eventually(
            'no create in flight',
            async () => ((await operationsInFlight(second)).create === 0 ? true : undefined),
            120_000,
          );
          assert.deepEqual(await v.vmNames(), [name], 'one vSphere VM for the one object');
        } finally {
          c.close();
        }
      });
    },
  );

  it('powers a VM off while ten deploys run, without waiting for any of them', { timeout: 300_000 }, async () => {
    await withVCenter('rl-hol', ['-deploy-delay', '30s'], async (v) => {
      const c = client();
      try {
        const mgr = await v.manager();
        const name = vmName('hol');
        await c.create(v.vm(name));
        await waitForPower(c, v.ns, name, 'PoweredOn', 180_000);
        const others = Array.from({ length: 10 }, () => vmName('busy'));
        await Promise.all(others.map((n) => c.create(v.vm(n))));
        await eventually(
          'ten deploys in flight',
          async () => ((await operationsInFlight(mgr)).create === 10 ? true : undefined),
          60_000,
        );
        await patchVM(c, v.ns, name, { spec: { powerState: 'PoweredOff', powerOffMode: 'Hard' } });
        const t0 = Date.now();
        await waitForPower(c, v.ns, name, 'PoweredOff', 60_000);
        const ms = Date.now() - t0;
        // Done while every deploy still runs: the power-off waited for none of them.
        const created = await Promise.all(
          others.map(async (n) => condition(await getVM(c, v.ns, n), 'VirtualMachineCreated')?.status === 'True'),
        );
        assert.deepEqual(created.filter(Boolean), [], `powered off in ${ms} ms, before any deploy ended`);
        assert.ok(
          ms < 30_000 * 0.8,
          `powered off in ${ms} ms (a deploy takes 30 s; power-off ${REALISTIC.powerOff * SCALE} ms)`,
        );
      } finally {
        c.close();
      }
    });
  });

  it(
    'retries task faults and deploy errors while they last, and shows them meanwhile',
    { timeout: 300_000 },
    async () => {
      // The first deploy answers 503, the second fails half-way (its VM made, the reconfigure that configures it
      // failed), and the first three power-ons end in error; then vCenter recovers.
      const faults = 'rest.deploy:1:503:1,task.ReconfigVm:1:HostCommunication:1,task.PowerOn:1:HostCommunication:3';
      await withVCenter('rl-fault', ['-fault', faults], async (v) => {
        const c = client();
        try {
          await v.manager();
          const name = vmName('fault');
          await c.create(v.vm(name));
          // Reported while it lasts: the power-on's failure is the VM's Ready condition until a retry works.
          await eventually(
            'the power-on failure in Ready',
            async () => condition(await getVM(c, v.ns, name), 'Ready')?.reason === 'PowerOperationFailed' || undefined,
            120_000,
          );
          await waitForPower(c, v.ns, name, 'PoweredOn', 180_000);
          const seen = await reasons(v.ns, name);
          assert.equal(seen.get('CreateFailed'), 2, 'the two failed deploys were reported');
          assert.equal(seen.get('PowerOperationFailed'), 3, 'each of the three failed power-ons was reported');
          assert.deepEqual(await v.vmNames(), [name], 'the failed deploys left no VM behind');
        } finally {
          c.close();
        }
      });
    },
  );

  it('survives sessions that expire in the middle of a deploy', { timeout: 300_000 }, async () => {
    await withVCenter('rl-ttl', ['-deploy-delay', '12s', '-session-ttl', '4s'], async (v) => {
      const c = client();
      try {
        await v.manager();
        const names = [vmName('ttl'), vmName('ttl')];
        for (const n of names) await c.create(v.vm(n));
        for (const n of names) await waitForPower(c, v.ns, n, 'PoweredOn', 180_000);
        assert.deepEqual((await v.vmNames()).sort(), [...names].sort());
      } finally {
        c.close();
      }
    });
  });
});
