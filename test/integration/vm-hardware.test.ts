// The VM's hardware beyond its class, through the shared manager and vcsim, read back with govc: the boot
// disk grown to spec.advanced.bootDiskCapacity and the hardware upgraded to spec.minHardwareVersion before the
// first boot; a larger capacity set later is applied at the next power-on; a capacity below the image's disk is
// shown, not ignored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, govc, govcCollect } from '../support/ground.js';
import { patchVM } from '../support/vm.js';
import {
  condition,
  eventually,
  getVM,
  vm,
  vmName,
  vmNamespace,
  waitForCondition,
  waitForPower,
  waitForReason,
} from '../support/vms.js';

const RECONFIGURED = 'VirtualMachineHardwareReconfigured';

/** The size govc shows for the VM's first disk ("20,971,520 KB"). */
async function bootDiskSummary(path: string): Promise<string | undefined> {
  const r = await govc(['device.ls', '-vm', path]);
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('disk-'));
  return line?.trim().split(/\s+/).slice(2).join(' ');
}

describe('VM controller: boot disk capacity and minimum hardware version', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('vm-hw');
  });
  after(() => c.close());

  it('boots a new VM with the grown boot disk and the upgraded hardware, and grows the disk again at a later power-on', async () => {
    const name = vmName('hw');
    const path = `/DC0/vm/${ns}/${name}`;
    await c.create(vm(ns, name, { minHardwareVersion: 21, advanced: { bootDiskCapacity: '20Gi' } }));
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    // (The change feed may report the new hardware version a moment after the power-on's end.)
    const on = await eventually('hardware reconfigured, status at version 21', async () => {
      const o = await getVM(c, ns, name);
      return condition(o, RECONFIGURED)?.status === 'True' && o.status?.hardwareVersion === 21 ? o : undefined;
    });
    // The image's disk is 16 GiB, its hardware vmx-19.
    assert.equal(await bootDiskSummary(path), '20,971,520 KB');
    assert.equal((await govcCollect(path, ['config.version']))['config.version'], 'vmx-21');
    assert.equal(on.status?.hardwareVersion, 21);

    // Grown while on: shown as pending, applied when the VM next powers on from off.
    await patchVM(c, ns, name, { spec: { advanced: { bootDiskCapacity: '24Gi' } } });
    const pending = await waitForCondition(c, ns, name, RECONFIGURED, 'False');
    assert.equal(condition(pending, RECONFIGURED)?.reason, 'PendingPowerOn');
    assert.match(
      condition(pending, RECONFIGURED)!.message,
      /a boot disk of 24Gi \(it has 20Gi\): applied at the next power-on/,
    );
    assert.equal(await bootDiskSummary(path), '20,971,520 KB');
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOff' } });
    await waitForPower(c, ns, name, 'PoweredOff', 60_000);
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOn' } });
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    await waitForCondition(c, ns, name, RECONFIGURED, 'True');
    assert.equal(await bootDiskSummary(path), '25,165,824 KB');
  });

  it('says so, and still runs the VM, when the capacity is below the boot disk of its image', async () => {
    const name = vmName('small');
    await c.create(vm(ns, name, { advanced: { bootDiskCapacity: '10Gi' } }));
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const obj = await waitForReason(c, ns, name, RECONFIGURED, 'BootDiskLarger');
    assert.match(
      condition(obj, RECONFIGURED)!.message,
      /spec.advanced.bootDiskCapacity 10Gi is smaller than the boot disk \(16Gi\), and vSphere cannot shrink a disk/,
    );
    assert.equal(await bootDiskSummary(`/DC0/vm/${ns}/${name}`), '16,777,216 KB');
  });
});
