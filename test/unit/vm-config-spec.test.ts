// The ConfigSpec a VM is deployed with: class hardware and allocations, the spec's NIC-type example, identity
// fields that a class cannot override, back-reference ExtraConfig, and its XML form for the OVF deploy.
import { UserInputError } from '../../src/runtime/errors.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type VMCreateRequest } from '../../src/providers/interface.js';
import { buildConfigSpec, nicTypes } from '../../src/providers/vsphere/config-spec.js';
import { encodeDocument } from '../../src/vsphere/vim25/codec.js';

const req: VMCreateRequest = {
  namespace: 'my-namespace',
  name: 'my-vm',
  uid: 'uid-1',
  instanceUUID: '11111111-1111-4111-8111-111111111111',
  biosUUID: '22222222-2222-4222-8222-222222222222',
  zone: 'zone-a',
  imageItemID: 'item',
  cpus: 2,
  memoryMiB: 4096,
  interfaces: ['eth0'],
};

const nicClass = {
  _typeName: 'VirtualMachineConfigSpec',
  deviceChange: [
    { _typeName: 'VirtualDeviceConfigSpec', device: { _typeName: 'VirtualE1000', key: -100 }, operation: 'add' },
    { _typeName: 'VirtualDeviceConfigSpec', device: { _typeName: 'VirtualVmxnet2', key: -200 }, operation: 'add' },
  ],
};

describe('VM config spec', () => {
  it('gives eth0/eth1 the class NIC types and eth2 VirtualVmxnet3 (the spec example)', () => {
    assert.deepEqual(nicTypes(nicClass, 3), ['VirtualE1000', 'VirtualVmxnet2', 'VirtualVmxnet3']);
    const spec = buildConfigSpec(
      { ...req, classConfigSpec: nicClass, interfaces: ['eth0', 'eth1', 'eth2'] },
      { network: 'VM Network' },
    );
    const devices = (spec.deviceChange as { device: { _typeName: string; key: number } }[]).map((c) => c.device);
    assert.deepEqual(
      devices.map((d) => d._typeName),
      ['VirtualE1000', 'VirtualVmxnet2', 'VirtualVmxnet3'],
    );
    assert.equal(new Set(devices.map((d) => d.key)).size, 3);
  });

  it('uses the class hardware and keeps the configSpec allocations', () => {
    const spec = buildConfigSpec(
      {
        ...req,
        classConfigSpec: {
          _typeName: 'VirtualMachineConfigSpec',
          cpuAllocation: { _typeName: 'ResourceAllocationInfo', limit: 400, reservation: 200 },
          memoryAllocation: { _typeName: 'ResourceAllocationInfo', limit: 2048, reservation: 1024 },
        },
      },
      { network: 'VM Network' },
    );
    assert.equal(spec.numCPUs, 2);
    assert.equal(spec.memoryMB, 4096);
    assert.deepEqual(spec.cpuAllocation, { _typeName: 'ResourceAllocationInfo', limit: 400, reservation: 200 });
    assert.deepEqual(spec.memoryAllocation, { _typeName: 'ResourceAllocationInfo', limit: 2048, reservation: 1024 });
  });

  it("turns the class's resource policy into allocations where its configSpec has none (vCPUs at the host clock)", () => {
    const resources = { cpuRequest: 0.5, cpuLimit: 2, memoryRequestBytes: 2 ** 30, memoryLimitBytes: 2 * 2 ** 30 };
    const spec = buildConfigSpec({ ...req, resources }, { network: 'VM Network', cpuMhz: 2294 });
    assert.deepEqual(spec.cpuAllocation, { _typeName: 'ResourceAllocationInfo', reservation: 1147, limit: 4588 });
    assert.deepEqual(spec.memoryAllocation, { _typeName: 'ResourceAllocationInfo', reservation: 1024, limit: 2048 });
    // A request alone sets no limit; the configSpec's own allocations win.
    const own = buildConfigSpec(
      {
        ...req,
        resources: { cpuRequest: 1, memoryRequestBytes: 2 ** 30 },
        classConfigSpec: {
          _typeName: 'VirtualMachineConfigSpec',
          cpuAllocation: { _typeName: 'ResourceAllocationInfo', reservation: 100 },
        },
      },
      { network: 'VM Network', cpuMhz: 2294 },
    );
    assert.deepEqual(own.cpuAllocation, { _typeName: 'ResourceAllocationInfo', reservation: 100 });
    assert.deepEqual(own.memoryAllocation, { _typeName: 'ResourceAllocationInfo', reservation: 1024 });
  });

  it("adds PCI passthrough for the class's vGPU profiles and DirectPath I/O devices, with memory reserved in full", () => {
    const spec = buildConfigSpec(
      {
        ...req,
        devices: {
          vgpuProfiles: ['grid_p40-8q'],
          directPath: [{ vendorID: 4318, deviceID: 7864, customLabel: 'gpu' }],
        },
      },
      { network: 'VM Network' },
    );
    const pci = (spec.deviceChange as { device: { _typeName: string; backing: Record<string, unknown> } }[])
      .map((c) => c.device)
      .filter((d) => d._typeName === 'VirtualPCIPassthrough');
    assert.deepEqual(
      pci.map((d) => d.backing),
      [
        { _typeName: 'VirtualPCIPassthroughVmiopBackingInfo', vgpu: 'grid_p40-8q' },
        {
          _typeName: 'VirtualPCIPassthroughDynamicBackingInfo',
          deviceName: '',
          allowedDevice: [{ _typeName: 'VirtualPCIPassthroughAllowedDevice', vendorId: 4318, deviceId: 7864 }],
          customLabel: 'gpu',
        },
      ],
    );
    assert.equal(spec.memoryReservationLockedToMax, true);
    // It encodes as vim25 (the types and fields exist).
    assert.match(encodeDocument(spec, 'VirtualMachineConfigSpec'), /VirtualPCIPassthroughVmiopBackingInfo/);
  });

  it('lets the VM, not its class, say the UUIDs and name, and marks the VM with its object', () => {
    const spec = buildConfigSpec(
      { ...req, classConfigSpec: { _typeName: 'VirtualMachineConfigSpec', instanceUuid: 'x', uuid: 'y', name: 'z' } },
      { network: 'VM Network' },
    );
    assert.equal(spec.instanceUuid, req.instanceUUID);
    assert.equal(spec.uuid, req.biosUUID);
    assert.equal(spec.name, 'my-vm');
    assert.deepEqual(
      (spec.extraConfig as { key: string; value: string }[]).map((o) => [o.key, o.value]),
      [
        ['vmoperator.vmware.com/namespace', 'my-namespace'],
        ['vmoperator.vmware.com/name', 'my-vm'],
        ['vmoperator.vmware.com/uid', 'uid-1'],
      ],
    );
  });

  it('adds no NICs for a VM with networking disabled', () => {
    const spec = buildConfigSpec({ ...req, interfaces: [] }, { network: 'VM Network' });
    assert.deepEqual(spec.deviceChange, []);
  });

  it('refuses a class configSpec of another type', () => {
    assert.throws(
      () => buildConfigSpec({ ...req, classConfigSpec: { _typeName: 'VirtualMachineCloneSpec' } }, { network: 'n' }),
      (err: unknown) => err instanceof UserInputError && err.reason === 'InvalidConfigSpec',
    );
  });

  it('encodes as a standalone vim25 document with the type and namespaces on its root', () => {
    const xml = encodeDocument(buildConfigSpec(req, { network: 'VM Network' }), 'VirtualMachineConfigSpec');
    assert.match(
      xml,
      /^<obj xmlns="urn:vim25" xmlns:xsi="http:\/\/www.w3.org\/2001\/XMLSchema-instance" xsi:type="VirtualMachineConfigSpec">/,
    );
    assert.match(xml, /<instanceUuid>11111111-1111-4111-8111-111111111111<\/instanceUuid>/);
    assert.match(xml, /<device xsi:type="VirtualVmxnet3">/);
    assert.match(xml, /<value xsi:type="xsd:string">uid-1<\/value>/);
  });
});
