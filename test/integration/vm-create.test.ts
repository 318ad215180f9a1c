// Creating VMs through the test run's manager (real apiserver, webhooks and vcsim): from a cluster image and
// from a namespaced image, the class's hardware, reservations and limits, the spec's NIC-type example, zone
// placement, the UUID look-ups the spec shows with govc, guest IDs, and the conditions a VM carries while its
// class, image or storage class is missing — until they appear.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { storageClassAssociation } from '../../src/devenv/seed.js';
import { client, govc, govcCollect } from '../support/ground.js';
import { API, patchVM } from '../support/vm.js';
import {
  condition,
  eventsFor,
  eventually,
  exampleClass,
  getVM,
  PHOTON_IMAGE,
  readyImage,
  UBUNTU_IMAGE,
  vm,
  vmName,
  vmNamespace,
  waitForCondition,
  waitForPower,
  waitForReason,
} from '../support/vms.js';

/** `govc device.ls` of the VM: name, type and summary of each device. */
async function devices(path: string): Promise<{ name: string; type: string; summary: string }[]> {
  const r = await govc(['device.ls', '-vm', path]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, type, ...rest] = l.trim().split(/\s+/);
      return { name: name!, type: type!, summary: rest.join(' ') };
    });
}

async function ethernetTypes(path: string): Promise<string[]> {
  return (await devices(path)).filter((d) => d.name.startsWith('ethernet-')).map((d) => d.type);
}

async function cachedImageItemID(c: KubeClient, name: string): Promise<string> {
  const img = await eventually(`ClusterVirtualMachineImage ${name}`, () =>
    c
      .get<{ apiVersion: string; kind: string; metadata: { name: string }; status?: { providerItemID?: string } }>(
        API,
        'ClusterVirtualMachineImage',
        name,
      )
      .then((o) => o.status?.providerItemID),
  );
  return img;
}

describe('VM controller: create', () => {
  let c: KubeClient;
  before(() => {
    c = client();
  });
  after(() => c.close());

  it('creates a VM from a cluster image with the class hardware, reservations, limits and UUIDs', async () => {
    const ns = await vmNamespace('vm-create');
    const name = vmName('photon');
    await c.create(vm(ns, name));
    const obj = await waitForPower(c, ns, name, 'PoweredOn');
    const s = obj.status!;
    assert.equal(s.instanceUUID, obj.spec.instanceUUID);
    assert.equal(s.biosUUID, obj.spec.biosUUID);
    assert.match(String(s.uniqueID), /^vm-\d+$/);
    assert.equal(s.hardwareVersion, 19);
    // (The reference names the class in the storage version, whichever version the VM is read in.)
    assert.deepEqual(s.class, {
      apiVersion: 'vmoperator.vmware.com/v1alpha6',
      kind: 'VirtualMachineClass',
      name: 'my-vm-class',
    });
    for (const type of [
      'VirtualMachineClassReady',
      'VirtualMachineImageReady',
      'VirtualMachineStorageReady',
      'VirtualMachineCreated',
      'Ready',
    ]) {
      assert.equal(condition(obj, type)?.status, 'True', type);
    }
    // The zone label was set and the host belongs to the zone's cluster.
    const zone = obj.metadata.labels?.['topology.kubernetes.io/zone'];
    assert.ok(zone === 'zone-a' || zone === 'zone-b', `zone label ${zone}`);
    assert.equal(s.zone, zone);
    assert.match(String(s.host), zone === 'zone-a' ? /^DC0_C0_H\d$/ : /^DC0_C1_H\d$/);

    // The spec's look-ups: govc vm.info -vm.uuid with the instance UUID and with the BIOS UUID.
    for (const uuid of [obj.spec.instanceUUID!, obj.spec.biosUUID!]) {
      const r = await govc(['vm.info', '-vm.uuid', uuid]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Name:\\s+${name}\\n`));
      assert.match(r.stdout, new RegExp(`Path:\\s+/DC0/vm/${ns}/${name}\\n`));
    }
    const props = await govcCollect(`/DC0/vm/${ns}/${name}`, [
      'config.hardware.numCPU',
      'config.hardware.memoryMB',
      'config.cpuAllocation',
      'config.memoryAllocation',
      'config.instanceUuid',
      'config.guestId',
      'config.extraConfig',
    ]);
    assert.equal(props['config.hardware.numCPU'], 2);
    assert.equal(props['config.hardware.memoryMB'], 4096);
    assert.deepEqual(props['config.cpuAllocation'], { reservation: 200, limit: 400 });
    assert.deepEqual(props['config.memoryAllocation'], { reservation: 1024, limit: 2048 });
    assert.equal(props['config.instanceUuid'], obj.spec.instanceUUID);
    assert.equal(props['config.guestId'], 'vmwarePhoton64Guest');
    const extra = Object.fromEntries(
      (props['config.extraConfig'] as { key: string; value: string }[]).map((o) => [o.key, o.value]),
    );
    assert.equal(extra['vmoperator.vmware.com/namespace'], ns);
    assert.equal(extra['vmoperator.vmware.com/name'], name);
    assert.equal(extra['vmoperator.vmware.com/uid'], obj.metadata.uid);
    assert.deepEqual(await ethernetTypes(`/DC0/vm/${ns}/${name}`), ['VirtualVmxnet3']);
    // Events are recorded without blocking the reconcile, so they may land just after the status.
    const reasons = await eventually('Created event', async () => {
      const r = (await eventsFor(c, ns, name)).map((e) => e.reason);
      return r.includes('Created') ? r : undefined;
    });
    assert.ok(reasons.includes('Created'), reasons.join(','));
    assert.ok(obj.metadata.finalizers?.includes('vmoperator.vmware.com/virtualmachine'));
  });

  it('prefers a namespaced VirtualMachineImage over a ClusterVirtualMachineImage of the same name', async () => {
    const ns = await vmNamespace('vm-nsimage');
    // A namespaced image named like the Photon cluster image, but backed by the Ubuntu item.
    const ubuntuItem = await cachedImageItemID(c, UBUNTU_IMAGE);
    await readyImage(c, ns, PHOTON_IMAGE, ubuntuItem, 'ubuntu-24.04');
    const name = vmName('nsimage');
    await c.create(vm(ns, name));
    await waitForPower(c, ns, name, 'PoweredOn');
    const props = await govcCollect(`/DC0/vm/${ns}/${name}`, ['config.guestId']);
    assert.equal(props['config.guestId'], 'ubuntu64Guest');
    const created = await eventually('Created event', async () =>
      (await eventsFor(c, ns, name)).find((e) => e.reason === 'Created'),
    );
    assert.match(created?.message ?? '', /from VirtualMachineImage vmi-3044b59f15d847781 in zone/);
  });

  it("gives interfaces the class NIC types in order and VirtualVmxnet3 beyond them (the spec example; the image's own E1000 is not kept)", async () => {
    const ns = await vmNamespace('vm-nics', { cls: false });
    await c.create(
      exampleClass(ns, 'my-vm-class', {
        _typeName: 'VirtualMachineConfigSpec',
        deviceChange: [
          { _typeName: 'VirtualDeviceConfigSpec', device: { _typeName: 'VirtualE1000', key: -100 }, operation: 'add' },
          {
            _typeName: 'VirtualDeviceConfigSpec',
            device: { _typeName: 'VirtualVmxnet2', key: -200 },
            operation: 'add',
          },
        ],
      }),
    );
    const name = vmName('nics');
    await c.create(vm(ns, name, { network: { interfaces: [{ name: 'eth0' }, { name: 'eth1' }, { name: 'eth2' }] } }));
    await waitForPower(c, ns, name, 'PoweredOn');
    assert.deepEqual(await ethernetTypes(`/DC0/vm/${ns}/${name}`), [
      'VirtualE1000',
      'VirtualVmxnet2',
      'VirtualVmxnet3',
    ]);
  });

  it("keeps the image's boot disk and replaces its E1000 NIC by the interfaces' (none when networking is disabled)", async () => {
    // The shipped Photon image, as a real OVA: a 16 GiB boot disk and one E1000 NIC.
    const ns = await vmNamespace('vm-imgdev');
    const name = vmName('imgdev');
    const off = vmName('nonet');
    await c.create(vm(ns, name));
    await c.create(vm(ns, off, { network: { disabled: true } }));
    await Promise.all([waitForPower(c, ns, name, 'PoweredOn'), waitForPower(c, ns, off, 'PoweredOn')]);
    for (const n of [name, off]) {
      const disks = (await devices(`/DC0/vm/${ns}/${n}`)).filter((d) => d.name.startsWith('disk-'));
      assert.deepEqual(
        disks.map((d) => [d.type, d.summary]),
        [['VirtualDisk', '16,777,216 KB']],
      );
    }
    assert.deepEqual(await ethernetTypes(`/DC0/vm/${ns}/${name}`), ['VirtualVmxnet3']);
    assert.deepEqual(await ethernetTypes(`/DC0/vm/${ns}/${off}`), []);
  });

  it("reserves and limits CPU and memory by the class's resource policy (vCPUs at the cluster's slowest host clock)", async () => {
    const ns = await vmNamespace('vm-policy', { cls: false });
    await c.create({
      ...exampleClass(ns, 'my-vm-class', { _typeName: 'VirtualMachineConfigSpec' }),
      spec: {
        hardware: { cpus: 2, memory: '4Gi' },
        policies: { resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } } },
      },
    });
    const name = vmName('policy');
    await c.create(vm(ns, name));
    const obj = await waitForPower(c, ns, name, 'PoweredOn');
    const host = await govcCollect(`/DC0/host/DC0_C0/${String(obj.status?.host)}`, ['summary.hardware.cpuMhz']).catch(
      () => govcCollect(`/DC0/host/DC0_C1/${String(obj.status?.host)}`, ['summary.hardware.cpuMhz']),
    );
    const mhz = Number(host['summary.hardware.cpuMhz']);
    assert.ok(mhz > 0);
    const props = await govcCollect(`/DC0/vm/${ns}/${name}`, ['config.cpuAllocation', 'config.memoryAllocation']);
    const cpu = props['config.cpuAllocation'] as { reservation?: number; limit?: number };
    const mem = props['config.memoryAllocation'] as { reservation?: number; limit?: number };
    assert.deepEqual([cpu.reservation, cpu.limit], [Math.ceil(0.5 * mhz), 2 * mhz]);
    assert.deepEqual([mem.reservation, mem.limit], [1024, 2048]);
  });

  it('places a VM in the zone its label names', async () => {
    const ns = await vmNamespace('vm-zone');
    const name = vmName('zoned');
    await c.create(vm(ns, name, {}, { 'topology.kubernetes.io/zone': 'zone-b' }));
    const obj = await waitForPower(c, ns, name, 'PoweredOn');
    assert.equal(obj.status?.zone, 'zone-b');
    assert.match(String(obj.status?.host), /^DC0_C1_H\d$/);
  });

  it("gives a VM its class's vGPU and DirectPath I/O devices, with its memory reserved in full", async () => {
    const ns = await vmNamespace('vm-pci', { cls: false });
    await c.create({
      ...exampleClass(ns, 'my-vm-class', { _typeName: 'VirtualMachineConfigSpec' }),
      spec: {
        hardware: {
          cpus: 2,
          memory: '4Gi',
          devices: {
            vgpuDevices: [{ profileName: 'grid_p40-8q' }],
            dynamicDirectPathIODevices: [{ vendorID: 4318, deviceID: 7864, customLabel: 'gpu' }],
          },
        },
      },
    });
    const name = vmName('pci');
    await c.create(vm(ns, name));
    await waitForPower(c, ns, name, 'PoweredOn');
    const props = await govcCollect(`/DC0/vm/${ns}/${name}`, [
      'config.hardware.device',
      'config.memoryReservationLockedToMax',
    ]);
    const backings = (
      props['config.hardware.device'] as { backing?: { vgpu?: string; allowedDevice?: { vendorId: number }[] } }[]
    )
      .map((d) => d.backing)
      .filter((b) => b?.vgpu !== undefined || b?.allowedDevice !== undefined);
    assert.deepEqual(
      backings.map((b) => b?.vgpu ?? b?.allowedDevice?.[0]?.vendorId),
      ['grid_p40-8q', 4318],
    );
    assert.equal(props['config.memoryReservationLockedToMax'], true);
  });

  it('moves a running VM to the zone its changed label names, and says so when the zone is not configured', async () => {
    const ns = await vmNamespace('vm-move');
    const name = vmName('mover');
    await c.create(vm(ns, name, {}, { 'topology.kubernetes.io/zone': 'zone-a' }));
    const before = await waitForPower(c, ns, name, 'PoweredOn');
    assert.equal(before.status?.zone, 'zone-a');
    await patchVM(c, ns, name, { metadata: { labels: { 'topology.kubernetes.io/zone': 'zone-b' } } });
    const moved = await eventually(
      'in zone-b',
      async () => {
        const o = await getVM(c, ns, name);
        return o.status?.zone === 'zone-b' && condition(o, 'VirtualMachineConditionPlacementReady')?.status === 'True'
          ? o
          : undefined;
      },
      60_000,
    );
    assert.match(String(moved.status?.host), /^DC0_C1_H\d$/);
    assert.equal(moved.status?.powerState, 'PoweredOn');
    const props = await govcCollect(`/DC0/vm/${ns}/${name}`, ['runtime.powerState']);
    assert.equal(props['runtime.powerState'], 'poweredOn', 'moved live');
    const reasons = (await eventsFor(c, ns, name)).map((e) => e.reason);
    assert.ok(reasons.includes('Relocating') && reasons.includes('Relocated'), reasons.join(','));

    await patchVM(c, ns, name, { metadata: { labels: { 'topology.kubernetes.io/zone': 'zone-x' } } });
    const refused = await waitForCondition(c, ns, name, 'VirtualMachineConditionPlacementReady', 'False');
    assert.equal(condition(refused, 'VirtualMachineConditionPlacementReady')?.reason, 'ZoneNotFound');
    assert.match(
      condition(refused, 'VirtualMachineConditionPlacementReady')!.message,
      /"zone-x", which is not configured; the VM stays in zone zone-b/,
    );
    assert.equal((await getVM(c, ns, name)).status?.zone, 'zone-b');
  });

  it('reports missing class, image and storage association as conditions and Events, then creates the VM once they exist', async () => {
    const ns = await vmNamespace('vm-deps', { cls: false, storage: false });
    const name = vmName('waiting');
    await c.create(vm(ns, name, { imageName: 'vmi-late' }));
    const waiting = await waitForCondition(c, ns, name, 'VirtualMachineCreated', 'False');
    assert.equal(condition(waiting, 'VirtualMachineClassReady')?.reason, 'NotFound');
    assert.match(
      condition(waiting, 'VirtualMachineClassReady')!.message,
      /VirtualMachineClass "my-vm-class" does not exist/,
    );
    assert.equal(condition(waiting, 'VirtualMachineImageReady')?.reason, 'NotFound');
    assert.match(condition(waiting, 'VirtualMachineImageReady')!.message, /vmi-late/);
    assert.equal(condition(waiting, 'VirtualMachineStorageReady')?.reason, 'NotAssociated');
    assert.match(
      condition(waiting, 'VirtualMachineStorageReady')!.message,
      /my-storage-class\.storageclass\.storage\.k8s\.io\/requests\.storage/,
    );
    assert.equal(condition(waiting, 'VirtualMachineCreated')?.reason, 'WaitingForDependencies');
    assert.equal(waiting.status?.uniqueID, undefined);
    const warnings = await eventually('warning events', async () => {
      const ev = (await eventsFor(c, ns, name)).filter((e) => e.type === 'Warning').map((e) => e.reason);
      return ev.length >= 3 ? ev : undefined;
    });
    assert.deepEqual(
      new Set(warnings),
      new Set(['VirtualMachineClassNotFound', 'VirtualMachineImageNotFound', 'NotAssociated']),
    );

    // The class appears: that condition turns True, the others stay.
    await c.create(exampleClass(ns));
    await waitForCondition(c, ns, name, 'VirtualMachineClassReady', 'True');
    // The image appears (namespaced, pointing at the Photon item), then the storage class is associated.
    const photonItem = await cachedImageItemID(c, PHOTON_IMAGE);
    await readyImage(c, ns, 'vmi-late', photonItem);
    await waitForCondition(c, ns, name, 'VirtualMachineImageReady', 'True');
    const still = await getVM(c, ns, name);
    assert.equal(condition(still, 'VirtualMachineCreated')?.status, 'False');
    await c.create(storageClassAssociation(ns, 'my-storage-class'));
    const ready = await waitForPower(c, ns, name, 'PoweredOn');
    assert.equal(condition(ready, 'VirtualMachineStorageReady')?.status, 'True');
  });

  it('refuses a guest ID the environment does not know, with the GuestIDReconfigured condition', async () => {
    const ns = await vmNamespace('vm-guestid');
    const bad = vmName('badguest');
    await c.create(vm(ns, bad, { guestID: 'notAnOS64Guest' }));
    const obj = await waitForCondition(c, ns, bad, 'VirtualMachineCreated', 'False');
    assert.equal(condition(obj, 'VirtualMachineCreated')?.reason, 'InvalidGuestID');
    assert.deepEqual(
      [
        condition(obj, 'GuestIDReconfigured')?.status,
        condition(obj, 'GuestIDReconfigured')?.reason,
        condition(obj, 'GuestIDReconfigured')?.message,
      ],
      ['False', 'Invalid', 'The specified guest ID value is not supported: notAnOS64Guest'],
    );
    const r = await govc(['vm.info', `/DC0/vm/${ns}/${bad}`]);
    assert.doesNotMatch(r.stdout, /Name:/, 'no VM was created');

    const good = vmName('goodguest');
    await c.create(vm(ns, good, { guestID: 'rhel9_64Guest' }));
    await waitForPower(c, ns, good, 'PoweredOn');
    const props = await govcCollect(`/DC0/vm/${ns}/${good}`, ['config.guestId']);
    assert.equal(props['config.guestId'], 'rhel9_64Guest');
  });

  it('applies a guest ID changed while powered off at the next power-on, and refuses an unknown one then', async () => {
    const ns = await vmNamespace('vm-guestid-change');
    const name = vmName('reguest');
    const guestId = async () => (await govcCollect(`/DC0/vm/${ns}/${name}`, ['config.guestId']))['config.guestId'];
    await c.create(vm(ns, name, { guestID: 'rhel9_64Guest' }));
    await waitForPower(c, ns, name, 'PoweredOn');
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOff', powerOffMode: 'Hard' } });
    await waitForPower(c, ns, name, 'PoweredOff');
    await patchVM(c, ns, name, { spec: { guestID: 'ubuntu64Guest' } });
    const pending = await waitForReason(c, ns, name, 'GuestIDReconfigured', 'PendingPowerOn');
    assert.match(
      condition(pending, 'GuestIDReconfigured')!.message ?? '',
      /ubuntu64Guest is applied at the next power-on/,
    );
    assert.equal(await guestId(), 'rhel9_64Guest', 'not applied while the VM stays off');
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOn' } });
    const on = await waitForPower(c, ns, name, 'PoweredOn');
    assert.equal(condition(on, 'GuestIDReconfigured')?.status, 'True');
    assert.equal(await guestId(), 'ubuntu64Guest');

    // One the zone does not know: the VM stays off and the condition says why.
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOff', powerOffMode: 'Hard' } });
    await waitForPower(c, ns, name, 'PoweredOff');
    await patchVM(c, ns, name, { spec: { guestID: 'notAnOS64Guest', powerState: 'PoweredOn' } });
    const refused = await waitForCondition(c, ns, name, 'GuestIDReconfigured', 'False');
    assert.equal(condition(refused, 'GuestIDReconfigured')?.reason, 'Invalid');
    assert.match(condition(refused, 'GuestIDReconfigured')?.message ?? '', /notAnOS64Guest/);
    assert.equal(await guestId(), 'ubuntu64Guest');
    assert.equal(refused.status?.powerState, 'PoweredOff');
  });
});
