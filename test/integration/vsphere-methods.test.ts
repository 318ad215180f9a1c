// Each vim25 method the operator uses, called through vmop's client against vcsim, with govc as the second
// opinion where it has one: inventory, VM create/find/reconfigure/clone/template/destroy, every power
// operation and its faults, guest customization, First Class Disks, guest OS descriptors and recent tasks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { VSphereAPI } from '../../src/vsphere/api.js';
import type { VimClient } from '../../src/vsphere/client.js';
import { VimFault } from '../../src/vsphere/faults.js';
import type { MoRef, VimObject } from '../../src/vsphere/vim25/codec.js';
import { govc } from '../support/ground.js';
import { vimClient } from '../support/vsphere.js';

async function fault(p: Promise<unknown>): Promise<VimFault> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof VimFault, `expected a VimFault, got ${String(err)}`);
  return err;
}

describe('vim25 methods against vcsim', () => {
  let client: VimClient;
  let api: VSphereAPI;
  let vmFolder: MoRef;
  let pool: MoRef;
  let cluster: MoRef;
  let datastore: MoRef;
  let network: MoRef;
  let vm: MoRef;
  const instanceUuid = randomUUID();
  const biosUuid = randomUUID();
  const name = `vmop-${instanceUuid.slice(0, 8)}`;

  before(async () => {
    client = await vimClient();
    api = new VSphereAPI(client);
    const inv = await api.inventory();
    const dc = inv.datacenters[0];
    assert.ok(dc);
    vmFolder = dc.props.vmFolder as MoRef;
    const c0 = inv.clusters.find((c) => c.props.name === 'DC0_C0');
    assert.ok(c0);
    cluster = c0.obj;
    pool = c0.props.resourcePool as MoRef;
    datastore = (inv.datastores.find((d) => d.props.name === 'LocalDS_0') ?? assert.fail('no LocalDS_0')).obj;
    network = (inv.networks.find((n) => n.props.name === 'DC0_DVPG0') ?? assert.fail('no DC0_DVPG0')).obj;
  });
  after(async () => client.logout());

  it('lists the inventory: one datacenter, two clusters of two hosts, two datastores, port groups', async () => {
    const inv = await api.inventory();
    assert.equal(inv.datacenters.length, 1);
    assert.deepEqual(inv.clusters.map((c) => c.props.name).sort(), ['DC0_C0', 'DC0_C1']);
    assert.equal(inv.hosts.length, 4);
    for (const c of inv.clusters) assert.equal((c.props.host as MoRef[]).length, 2);
    assert.deepEqual(inv.datastores.map((d) => d.props.name).sort(), ['LocalDS_0', 'LocalDS_1']);
    assert.ok(inv.networks.some((n) => n.props.name === 'DC0_DVPG0'));
    assert.ok(inv.resourcePools.length >= 2);
    assert.equal(typeof inv.datastores[0]?.props['summary.capacity'], 'number');
  });

  it('creates a VM with UUIDs, hardware and NICs of chosen types, which govc finds by either UUID', async () => {
    const nic = (type: string, key: number) => ({
      _typeName: 'VirtualDeviceConfigSpec',
      operation: 'add',
      device: {
        _typeName: type,
        key,
        backing: { _typeName: 'VirtualEthernetCardNetworkBackingInfo', deviceName: 'DC0_DVPG0', network },
      },
    });
    vm = await api.createVM(
      vmFolder,
      {
        _typeName: 'VirtualMachineConfigSpec',
        name,
        guestId: 'ubuntu64Guest',
        numCPUs: 2,
        memoryMB: 4096,
        instanceUuid,
        uuid: biosUuid,
        files: { _typeName: 'VirtualMachineFileInfo', vmPathName: '[LocalDS_0]' },
        extraConfig: [
          { _typeName: 'OptionValue', key: 'vmop.vmoperator.vmware.com/name', value: 'my-namespace/my-vm' },
        ],
        deviceChange: [
          nic('VirtualE1000', -100),
          nic('VirtualVmxnet2', -200),
          nic('VirtualVmxnet3', -300),
          // A SCSI controller, where First Class Disks get their slots.
          {
            _typeName: 'VirtualDeviceConfigSpec',
            operation: 'add',
            device: { _typeName: 'VirtualLsiLogicController', key: -400, busNumber: 0, sharedBus: 'noSharing' },
          },
        ],
      },
      pool,
    );
    assert.equal(vm.type, 'VirtualMachine');
    const props = await api.pc.one(vm, [
      'config.instanceUuid',
      'config.uuid',
      'config.hardware.numCPU',
      'config.hardware.memoryMB',
      'config.hardware.device',
      'config.extraConfig',
    ]);
    assert.equal(props['config.instanceUuid'], instanceUuid);
    assert.equal(props['config.uuid'], biosUuid);
    assert.equal(props['config.hardware.numCPU'], 2);
    assert.equal(props['config.hardware.memoryMB'], 4096);
    const nics = (props['config.hardware.device'] as VimObject[]).filter((d) =>
      /^Virtual(E1000|Vmxnet)/.test(String(d._typeName)),
    );
    assert.deepEqual(
      nics.map((d) => d._typeName),
      ['VirtualE1000', 'VirtualVmxnet2', 'VirtualVmxnet3'],
    );
    assert.ok(
      (props['config.extraConfig'] as { key: string; value: unknown }[]).some(
        (o) => o.key === 'vmop.vmoperator.vmware.com/name' && o.value === 'my-namespace/my-vm',
      ),
    );
    for (const uuid of [instanceUuid, biosUuid]) {
      const r = await govc(['vm.info', '-vm.uuid', uuid]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Name:\\s+${name}`));
    }
  });

  it('finds the VM by instance UUID and by BIOS UUID', async () => {
    assert.deepEqual(await api.findVMByUuid(instanceUuid, true), vm);
    assert.deepEqual(await api.findVMByUuid(biosUuid, false), vm);
    assert.deepEqual(await api.findAllVMsByUuid(biosUuid, false), [vm]);
    assert.equal(await api.findVMByUuid(randomUUID(), true), undefined);
  });

  it('reconfigures CPU and memory reservations and limits, read back by govc', async () => {
    await api.reconfigure(vm, {
      _typeName: 'VirtualMachineConfigSpec',
      cpuAllocation: { _typeName: 'ResourceAllocationInfo', reservation: 200, limit: 400 },
      memoryAllocation: { _typeName: 'ResourceAllocationInfo', reservation: 1024, limit: 2048 },
    });
    const p = await api.pc.one(vm, ['config.cpuAllocation', 'config.memoryAllocation']);
    assert.deepEqual(
      [(p['config.cpuAllocation'] as VimObject).reservation, (p['config.cpuAllocation'] as VimObject).limit],
      [200, 400],
    );
    assert.deepEqual(
      [(p['config.memoryAllocation'] as VimObject).reservation, (p['config.memoryAllocation'] as VimObject).limit],
      [1024, 2048],
    );
    const r = await govc(['object.collect', '-s', `/DC0/vm/${name}`, 'config.cpuAllocation.limit']);
    assert.equal(r.stdout.trim(), '400');
  });

  const state = async () => (await api.pc.one(vm, ['runtime.powerState']))['runtime.powerState'];

  it('powers on, suspends, resumes, resets and powers off, with InvalidPowerState for the wrong state', async () => {
    await api.powerOn(vm);
    assert.equal(await state(), 'poweredOn');
    const twice = await fault(api.powerOn(vm));
    assert.equal(twice.faultType, 'InvalidPowerState');
    assert.ok(twice.is('InvalidState'));
    assert.equal(twice.fields.existingState, 'poweredOn');
    await api.suspend(vm);
    assert.equal(await state(), 'suspended');
    await api.powerOn(vm);
    await api.reset(vm);
    assert.equal(await state(), 'poweredOn');
    await api.powerOff(vm);
    assert.equal(await state(), 'poweredOff');
    const resetOff = await fault(api.reset(vm));
    assert.equal(resetOff.faultType, 'InvalidPowerState');
  });

  it('shuts down and puts the guest in standby through VM Tools; reboot needs running tools', async () => {
    await api.powerOn(vm);
    const reboot = await fault(api.rebootGuest(vm));
    assert.equal(reboot.faultType, 'ToolsUnavailable');
    await api.standbyGuest(vm);
    for (let i = 0; i < 50 && (await state()) !== 'suspended'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await state(), 'suspended');
    await api.powerOn(vm);
    await api.shutdownGuest(vm);
    for (let i = 0; i < 50 && (await state()) !== 'poweredOff'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await state(), 'poweredOff');
  });

  it('customizes a powered-off guest, and refuses while it is powered on', async () => {
    const spec = {
      _typeName: 'CustomizationSpec',
      identity: {
        _typeName: 'CustomizationLinuxPrep',
        hostName: { _typeName: 'CustomizationFixedName', name: 'guest-1' },
        domain: 'example.com',
      },
      globalIPSettings: { _typeName: 'CustomizationGlobalIPSettings', dnsServerList: ['8.8.8.8'] },
      // One adapter mapping per NIC: vSphere refuses a count that differs (NicSettingMismatch).
      nicSettingMap: [0, 1, 2].map(() => ({
        _typeName: 'CustomizationAdapterMapping',
        adapter: { _typeName: 'CustomizationIPSettings', ip: { _typeName: 'CustomizationDhcpIpGenerator' } },
      })),
    };
    await api.customize(vm, spec);
    await api.powerOn(vm);
    const on = await fault(api.customize(vm, spec));
    assert.ok(on.is('InvalidPowerState') || on.is('InvalidState'), on.faultType);
    const info = await api.pc.one(vm, ['guest.hostName']);
    assert.equal(info['guest.hostName'], 'guest-1');
    await api.powerOff(vm);
  });

  it('clones the VM and marks the clone a template', async () => {
    const clone = await api.cloneVM(vm, vmFolder, `${name}-tpl`, {
      _typeName: 'VirtualMachineCloneSpec',
      location: { _typeName: 'VirtualMachineRelocateSpec', pool },
      powerOn: false,
      template: false,
    });
    await api.markAsTemplate(clone);
    assert.equal((await api.pc.one(clone, ['config.template']))['config.template'], true);
    await api.destroy(clone);
  });

  it('creates, attaches, detaches and deletes a First Class Disk', async () => {
    const disk = await api.createDisk(`${name}-disk`, 1024, datastore);
    const id = (disk.config as { id: { id: string } }).id.id;
    assert.ok(id);
    const got = await api.retrieveDisk(id, datastore);
    assert.equal((got.config as { capacityInMB: number }).capacityInMB, 1024);
    await api.attachDisk(vm, id, datastore);
    // The disk names the VM (its BIOS UUID) as its consumer, and the VM has a VirtualDisk device backed by it
    // (vmop's vcsim adds it, as vCenter does; stock vcsim leaves it out).
    const consumers = async () =>
      ((await api.retrieveDisk(id, datastore)).config as { consumerId?: { id: string }[] }).consumerId ?? [];
    const fcdDevices = async () =>
      ((await api.pc.one(vm, ['config.hardware.device']))['config.hardware.device'] as VimObject[]).filter(
        (d) => (d as { vDiskId?: { id?: string } }).vDiskId?.id === id,
      );
    assert.deepEqual(
      (await consumers()).map((c) => c.id),
      [biosUuid],
    );
    const [device] = await fcdDevices();
    assert.equal(device?._typeName, 'VirtualDisk');
    assert.equal((device as { capacityInKB?: number }).capacityInKB, 1024 * 1024);
    assert.match(String((device?.backing as { fileName?: string } | undefined)?.fileName), new RegExp(id));
    await api.detachDisk(vm, id);
    assert.deepEqual(await consumers(), []);
    assert.deepEqual(await fcdDevices(), []);
    await api.deleteDisk(id, datastore);
    const gone = await fault(api.retrieveDisk(id, datastore));
    assert.ok(gone.is('NotFound') || gone.is('InvalidArgument'), gone.faultType);
  });

  it('lists guest OS descriptors and hardware versions of a cluster', async () => {
    const ids = (await api.guestOSDescriptors(cluster)).map((d) => d.id);
    for (const id of ['ubuntu64Guest', 'vmwarePhoton64Guest', 'windows2019srv_64Guest'])
      assert.ok(ids.includes(id), id);
    const versions = (await api.configOptionDescriptors(cluster)).map((d) => d.key);
    assert.ok(
      versions.some((v) => /^vmx-\d+$/.test(v)),
      versions.join(','),
    );
  });

  it('lists the recent tasks of the VM', async () => {
    const tasks = await api.recentTasks(vm);
    assert.ok(tasks.length > 0);
    assert.ok(tasks.every((t) => t.info.state === 'success' || t.info.state === 'error'));
  });

  it('destroys the VM; a second destroy is ManagedObjectNotFound', async () => {
    await api.destroy(vm);
    assert.equal(await api.findVMByUuid(instanceUuid, true), undefined);
    const again = await fault(api.destroy(vm));
    assert.equal(again.faultType, 'ManagedObjectNotFound');
    assert.equal((again.fields.obj as MoRef).value, vm.value);
  });
});
