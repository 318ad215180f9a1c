// The local vCenter made as slow and unreliable as a real one, on demand: vmop's vcsim launcher with the
// realistic profile (scaled down) makes tasks and the OVF deploy take their time, and injects faults — a SOAP
// fault at the call, a task that ends in error, a 503 or a dropped connection from an endpoint, sessions that
// expire — each seen here through vmop's own vSphere client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { VcsimProcess } from '../../src/devenv/vcsim.js';
import { profileArgs, REALISTIC } from '../../src/devenv/vcenter-profile.js';
import { VSphereAPI } from '../../src/vsphere/api.js';
import { VimClient } from '../../src/vsphere/client.js';
import { VimFault, VimTransportError } from '../../src/vsphere/faults.js';
import { VapiClient, VapiError } from '../../src/vsphere/rest.js';
import type { MoRef } from '../../src/vsphere/vim25/codec.js';
import { ground } from '../support/ground.js';
import { startOwnVcsim } from '../support/vcsim.js';
import { vcsimCA, vimClientAt } from '../support/vsphere.js';

const SCALE = 0.1;
const INVENTORY = ['-cluster', '1', '-host', '1', '-standalone-host', '0', '-vm', '3', '-autostart=false'];

const connect = vimClientAt;

function vapi(url: string): VapiClient {
  const g = ground();
  return VapiClient.create({
    url,
    tls: { ca: vcsimCA() },
    credentials: { username: g.vcsimUser, password: g.vcsimPassword },
  });
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { ms: performance.now() - t0, value };
}

async function vms(api: VSphereAPI): Promise<MoRef[]> {
  return (await api.pc.containerObjects(['VirtualMachine'], ['name'])).map((o) => o.obj);
}

describe('the local vCenter: latency and faults on demand', () => {
  let sim: VcsimProcess;
  let c: VimClient;
  let api: VSphereAPI;
  before(async () => {
    // Jitter off, so the lower bounds below are exact; the realistic profile's own jitter is 0.3.
    sim = await startOwnVcsim([...INVENTORY, ...profileArgs('realistic', SCALE), '-delay-jitter', '0']);
    c = await connect(sim.url);
    api = new VSphereAPI(c);
  });
  after(async () => {
    await c.logout().catch(() => undefined);
    await sim.stop();
  });

  it('makes tasks and the OVF deploy take the profile’s times (scaled)', async () => {
    const [vm] = await vms(api);
    const on = await timed(() => api.powerOn(vm!));
    assert.ok(on.ms >= REALISTIC.powerOn * SCALE, `power-on took ${on.ms.toFixed(0)} ms`);
    const off = await timed(() => api.powerOff(vm!));
    assert.ok(off.ms >= REALISTIC.powerOff * SCALE, `power-off took ${off.ms.toFixed(0)} ms`);
    // The deploy is answered (here: the item does not exist) no sooner than the deploy takes.
    const rest = vapi(sim.url);
    try {
      const deploy = await timed(() =>
        rest.deployOVF('no-such-item', { resourcePoolId: 'resgroup-1' }, { name: 'x' }).then(
          () => undefined,
          (err: unknown) => err,
        ),
      );
      assert.ok(deploy.value instanceof Error, 'the deploy of a missing item fails');
      assert.ok(deploy.ms >= REALISTIC.deploy * SCALE, `the deploy was answered after ${deploy.ms.toFixed(0)} ms`);
    } finally {
      await rest.logout().catch(() => undefined);
    }
  });

  it('injects faults: at the SOAP call, at the end of a task, and from the vAPI endpoint', async () => {
    const faulty = await startOwnVcsim([
      ...INVENTORY,
      '-fault',
      'ResetVM_Task:1:TaskInProgress,task.PowerOff:1:InvalidState,task.Destroy:0:InvalidState,rest.deploy:1:503,SuspendVM_Task:1:drop',
    ]);
    const fc = await connect(faulty.url);
    const fapi = new VSphereAPI(fc);
    try {
      const [vm, other] = await vms(fapi);
      // A SOAP fault at the call, retryable as vCenter's busy fault is.
      const busy = await fapi.reset(vm!).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(busy instanceof VimFault && busy.is('TaskInProgress') && busy.retryable, String(busy));
      // A task that is accepted and then ends in error: the VM stays as it was.
      await fapi.powerOn(vm!);
      const failed = await fapi.powerOff(vm!).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(failed instanceof VimFault && failed.is('InvalidState'), String(failed));
      const state = await fapi.pc.one(vm!, ['runtime.powerState']);
      assert.equal(state['runtime.powerState'], 'poweredOn');
      // A connection dropped without an answer.
      const dropped = await fapi.suspend(vm!).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(dropped instanceof VimTransportError, String(dropped));
      // A probability of 0 never fires.
      await fapi.destroy(other!);
      // The vAPI endpoint answers the deploy with 503.
      const rest = vapi(faulty.url);
      try {
        const unavailable = await rest.deployOVF('any', { resourcePoolId: 'resgroup-1' }, { name: 'x' }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(unavailable instanceof VapiError && unavailable.status === 503, String(unavailable));
      } finally {
        await rest.logout().catch(() => undefined);
      }
    } finally {
      await fc.logout().catch(() => undefined);
      await faulty.stop();
    }
  });

  it('expires sessions, and vmop’s clients log in again', async () => {
    const ttl = 1_500;
    const expiring = await startOwnVcsim([...INVENTORY, '-session-ttl', `${ttl}ms`]);
    const calls: string[] = [];
    const ec = await connect(expiring.url, (m) => calls.push(m));
    const rest = vapi(expiring.url);
    try {
      const eapi = new VSphereAPI(ec);
      assert.equal((await vms(eapi)).length, 3);
      await rest.call('GET', '/com/vmware/content/library');
      const logins = () => calls.filter((m) => m === 'Login').length;
      const before = logins();
      await new Promise((r) => setTimeout(r, ttl + 500));
      assert.equal((await vms(eapi)).length, 3, 'the SOAP call works after the session expired');
      assert.ok(logins() > before, `logged in again after the session expired: ${calls.join(',')}`);
      await rest.call('GET', '/com/vmware/content/library');
    } finally {
      await ec.logout().catch(() => undefined);
      await rest.logout().catch(() => undefined);
      await expiring.stop();
    }
  });
});
