// Power through the test run's manager against vcsim: every mode of power off and suspend (Hard, Soft,
// TrySoft with and without VM Tools), resume, restart exactly once per request, drift correction when a VM
// is powered off behind the operator's back, and delete (finalizer, VM destroyed in vSphere).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, govc } from '../support/ground.js';
import { patchVM, vmPath } from '../support/vm.js';
import {
  eventsFor,
  eventually,
  getVM,
  vm,
  vmName,
  vmNamespace,
  vspherePowerState,
  waitForGone,
  waitForPower,
} from '../support/vms.js';

async function powerEvents(c: KubeClient, ns: string, name: string): Promise<string[]> {
  return (await eventsFor(c, ns, name)).filter((e) => e.reason === 'PowerOperation').map((e) => e.message);
}

async function setTools(ns: string, name: string, running: boolean): Promise<void> {
  const r = await govc([
    'vm.change',
    '-vm',
    `/DC0/vm/${ns}/${name}`,
    '-e',
    `SET.guest.toolsRunningStatus=${running ? 'guestToolsRunning' : 'guestToolsNotRunning'}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const want = running ? 'guestToolsRunning' : 'guestToolsNotRunning';
  await eventually(`vcsim reports ${want}`, async () => {
    const info = await govc(['object.collect', '-s', `/DC0/vm/${ns}/${name}`, 'guest.toolsRunningStatus']);
    return info.stdout.trim() === want ? true : undefined;
  });
  // The operator learns it from its change feed, which is a WaitForUpdatesEx round trip behind.
  await new Promise((r) => setTimeout(r, 1000));
}

describe('VM controller: power', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('vm-power');
  });
  after(() => c.close());

  async function transition(name: string, patch: Record<string, unknown>, k8s: string, vsphere: string, event: RegExp) {
    await patchVM(c, ns, name, { spec: patch });
    await waitForPower(c, ns, name, k8s);
    assert.equal(await vspherePowerState(ns, name), vsphere);
    const events = await eventually(`event ${event}`, async () => {
      const ev = await powerEvents(c, ns, name);
      return ev.some((m) => event.test(m)) ? ev : undefined;
    });
    assert.ok(events.length > 0);
  }

  it('powers off and suspends per mode, and powers on and resumes', async () => {
    const name = vmName('modes');
    await c.create(vm(ns, name));
    await waitForPower(c, ns, name, 'PoweredOn');
    assert.equal(await vspherePowerState(ns, name), 'poweredOn');

    // TrySoft (the default) without VM Tools: hard at once.
    await transition(
      name,
      { powerState: 'PoweredOff' },
      'PoweredOff',
      'poweredOff',
      /^powerOff \(TrySoft without VM Tools running\)$/,
    );
    await transition(
      name,
      { powerState: 'PoweredOn' },
      'PoweredOn',
      'poweredOn',
      /^powerOn \(PoweredOff → PoweredOn\)$/,
    );
    // Soft: the guest is asked to shut down.
    await transition(
      name,
      { powerState: 'PoweredOff', powerOffMode: 'Soft' },
      'PoweredOff',
      'poweredOff',
      /^shutdownGuest \(Soft mode\)$/,
    );
    await transition(name, { powerState: 'PoweredOn' }, 'PoweredOn', 'poweredOn', /powerOn/);
    // TrySoft with VM Tools running: soft.
    await setTools(ns, name, true);
    await transition(
      name,
      { powerState: 'PoweredOff', powerOffMode: 'TrySoft' },
      'PoweredOff',
      'poweredOff',
      /^shutdownGuest \(TrySoft with VM Tools running\)$/,
    );
    await transition(name, { powerState: 'PoweredOn' }, 'PoweredOn', 'poweredOn', /powerOn/);
    // Hard suspend, resume, and Soft suspend (standby).
    await transition(
      name,
      { powerState: 'Suspended', suspendMode: 'Hard' },
      'Suspended',
      'suspended',
      /^suspend \(Hard mode\)$/,
    );
    await transition(
      name,
      { powerState: 'PoweredOn' },
      'PoweredOn',
      'poweredOn',
      /^powerOn \(Suspended → PoweredOn\)$/,
    );
    await transition(
      name,
      { powerState: 'Suspended', suspendMode: 'Soft' },
      'Suspended',
      'suspended',
      /^standbyGuest \(Soft mode\)$/,
    );
    await transition(name, { powerState: 'PoweredOn' }, 'PoweredOn', 'poweredOn', /powerOn/);
    // Hard power off.
    await transition(
      name,
      { powerState: 'PoweredOff', powerOffMode: 'Hard' },
      'PoweredOff',
      'poweredOff',
      /^powerOff \(Hard mode\)$/,
    );
  });

  it('creates a VM powered off when asked to', async () => {
    const name = vmName('off');
    await c.create(vm(ns, name, { powerState: 'PoweredOff' }));
    await waitForPower(c, ns, name, 'PoweredOff');
    assert.equal(await vspherePowerState(ns, name), 'poweredOff');
  });

  it('restarts once per nextRestartTime request, with the mode the spec asks for', async () => {
    const name = vmName('restart');
    await c.create(vm(ns, name, { restartMode: 'Hard' }));
    await waitForPower(c, ns, name, 'PoweredOn');
    const patched = (await patchVM(c, ns, name, { spec: { nextRestartTime: 'now' } })) as unknown as {
      spec: { nextRestartTime: string };
    };
    const requested = patched.spec.nextRestartTime;
    assert.match(requested, /^\d{4}-\d\d-\d\dT/);
    const restarted = await eventually('lastRestartTime', async () => {
      const obj = await getVM(c, ns, name);
      return obj.status?.lastRestartTime === requested ? obj : undefined;
    });
    assert.equal(restarted.status?.powerState, 'PoweredOn');
    // More reconciles (a label change, a drift check) must not restart it again.
    await patchVM(c, ns, name, { metadata: { labels: { poke: '1' } } });
    await eventually('first Restarted event', async () =>
      (await eventsFor(c, ns, name)).some((e) => e.reason === 'Restarted') ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const restarts = (await eventsFor(c, ns, name)).filter((e) => e.reason === 'Restarted');
    assert.equal(restarts.length, 1);
    assert.equal(restarts[0]!.count ?? 1, 1);
    assert.equal(restarts[0]!.message, `reset for the request at ${requested}`);

    // A second request restarts once more; with VM Tools running, Soft mode reboots the guest.
    await setTools(ns, name, true);
    const again = (await patchVM(c, ns, name, {
      spec: { nextRestartTime: 'now', restartMode: 'Soft' },
    })) as unknown as {
      spec: { nextRestartTime: string };
    };
    await eventually('second restart', async () => {
      const obj = await getVM(c, ns, name);
      return obj.status?.lastRestartTime === again.spec.nextRestartTime ? obj : undefined;
    });
    // lastRestartTime is written before the restart itself and its Event, so wait for the Event.
    const expected = [
      `rebootGuest for the request at ${again.spec.nextRestartTime}`,
      `reset for the request at ${requested}`,
    ].sort();
    const messages = await eventually('second Restarted event', async () => {
      const m = (await eventsFor(c, ns, name)).filter((e) => e.reason === 'Restarted').map((e) => e.message);
      return m.length >= 2 ? m.sort() : undefined;
    });
    assert.deepEqual(messages, expected);
  });

  it('puts the desired power state back when the VM is powered off in vSphere', async () => {
    const name = vmName('drift');
    await c.create(vm(ns, name));
    await waitForPower(c, ns, name, 'PoweredOn');
    const r = await govc(['vm.power', '-off', `/DC0/vm/${ns}/${name}`]);
    assert.equal(r.code, 0, r.stderr);
    const t0 = Date.now();
    await eventually(
      'powered on again',
      async () => ((await vspherePowerState(ns, name)) === 'poweredOn' ? true : undefined),
      10_000,
    );
    assert.ok(Date.now() - t0 < 10_000);
    // The Event is recorded without holding up the reconcile, so it may land just after the power-on.
    const ev = await eventually('powerOn event', async () => {
      const list = await powerEvents(c, ns, name);
      return list.includes('powerOn (PoweredOff → PoweredOn)') ? list : undefined;
    });
    assert.ok(ev.includes('powerOn (PoweredOff → PoweredOn)'), ev.join('; '));
  });

  it('destroys the vSphere VM on delete before the finalizer goes', async () => {
    const name = vmName('delete');
    await c.create(vm(ns, name));
    const obj = await waitForPower(c, ns, name, 'PoweredOn');
    await c.request('DELETE', vmPath(ns, name));
    await waitForGone(c, ns, name);
    const r = await govc(['vm.info', '-vm.uuid', obj.spec.instanceUUID!]);
    assert.doesNotMatch(r.stdout, /Name:/);
    assert.equal(await vspherePowerState(ns, name), undefined);
  });
});
