// Volume, readiness-probe and VirtualMachineClass rules through the real API server.
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, testNamespace } from '../support/ground.js';
import { API, assertAllowed, assertDenied, vmObject } from '../support/vm.js';

const pvc = (name: string, claimName: string, extra: Record<string, unknown> = {}) => ({
  name,
  persistentVolumeClaim: { claimName, ...extra },
});

describe('volume and readiness rules', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('vol');
  });
  after(() => c.close());

  const denied: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'two volumes with one name',
      { volumes: [pvc('disk', 'a'), pvc('disk', 'b')] },
      'spec.volumes[1]',
      /Duplicate value/,
    ],
    [
      'two volumes with one claim',
      { volumes: [pvc('disk1', 'a'), pvc('disk2', 'a')] },
      'spec.volumes[1].persistentVolumeClaim.claimName',
      /Duplicate value: "a"/,
    ],
    [
      'a volume name that is not a DNS label',
      { volumes: [pvc('Disk_1', 'a')] },
      'spec.volumes[0].name',
      /must be a DNS label/,
    ],
    [
      'an empty claim name',
      { volumes: [pvc('disk1', '')] },
      'spec.volumes[0].persistentVolumeClaim.claimName',
      /Required value/,
    ],
    [
      'a volume without a source',
      { volumes: [{ name: 'disk1' }] },
      'spec.volumes[0].persistentVolumeClaim',
      /a volume source is required/,
    ],
    [
      'a read-only PVC volume',
      { volumes: [pvc('disk1', 'a', { readOnly: true })] },
      'spec.volumes[0].persistentVolumeClaim.readOnly',
      /Unsupported value: true/,
    ],
    [
      'two readiness probe actions',
      { readinessProbe: { tcpSocket: { port: 22 }, guestHeartbeat: {} } },
      'spec.readinessProbe',
      /only one action can be specified/,
    ],
  ];
  denied.forEach(([what, spec, field, message], i) => {
    it(`denies ${what}`, async () => {
      await assertDenied(c.create(vmObject(ns, `vol-${i}`, spec)), field, message);
    });
  });

  it('allows the spec’s PVC volume example', async () => {
    await assertAllowed(c.create(vmObject(ns, 'my-vm', { volumes: [pvc('my-disk-1', 'my-pvc')] })));
  });
});

function vmClass(ns: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: API, kind: 'VirtualMachineClass', metadata: { name, namespace: ns }, spec };
}

describe('VirtualMachineClass rules', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('class');
  });
  after(() => c.close());

  const alloc = (cpu: [number, number] | undefined, mem: [number, number] | undefined) => ({
    _typeName: 'VirtualMachineConfigSpec',
    ...(cpu && { cpuAllocation: { _typeName: 'ResourceAllocationInfo', reservation: cpu[0], limit: cpu[1] } }),
    ...(mem && { memoryAllocation: { _typeName: 'ResourceAllocationInfo', reservation: mem[0], limit: mem[1] } }),
  });

  const denied: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'zero CPUs',
      { hardware: { cpus: 0, memory: '4Gi' } },
      'spec.hardware.cpus',
      /Invalid value: 0: must be greater than or equal to 1/,
    ],
    ['zero memory', { hardware: { cpus: 1, memory: '0' } }, 'spec.hardware.memory', /must be a positive quantity/],
    [
      'a negative memory size',
      { hardware: { cpus: 1, memory: '-1Gi' } },
      'spec.hardware.memory',
      /must be a positive quantity/,
    ],
    [
      'a configSpec without _typeName',
      { configSpec: { numCPUs: 2 } },
      'spec.configSpec._typeName',
      /with "_typeName": "VirtualMachineConfigSpec"/,
    ],
    [
      'a configSpec of another type',
      { configSpec: { _typeName: 'VirtualMachineCloneSpec' } },
      'spec.configSpec._typeName',
      /Unsupported value: "VirtualMachineCloneSpec"/,
    ],
    [
      'a CPU reservation above its limit',
      { configSpec: alloc([500, 400], undefined) },
      'spec.configSpec.cpuAllocation.reservation',
      /reservation \(500 MHz\) must not exceed limit \(400 MHz\)/,
    ],
    [
      'a memory reservation above its limit',
      { configSpec: alloc(undefined, [4096, 2048]) },
      'spec.configSpec.memoryAllocation.reservation',
      /reservation \(4096 MB\) must not exceed limit \(2048 MB\)/,
    ],
    [
      'a CPU request above its limit',
      { policies: { resources: { requests: { cpu: '2000M' }, limits: { cpu: '1000M' } } } },
      'spec.policies.resources.requests.cpu',
      /request 2000M \(2000000000 CPU cores\) must not exceed limit 1000M \(1000000000 CPU cores\)/,
    ],
    [
      'a memory request above its limit',
      { policies: { resources: { requests: { memory: '4Gi' }, limits: { memory: '2Gi' } } } },
      'spec.policies.resources.requests.memory',
      /request 4Gi \(4294967296 bytes\) must not exceed limit 2Gi \(2147483648 bytes\)/,
    ],
    [
      'instance storage (not implemented)',
      { hardware: { instanceStorage: { storageClass: 'my-storage-class', volumes: [{ size: '100Gi' }] } } },
      'spec.hardware.instanceStorage',
      /vmop does not support instance storage yet, so this field would be ignored; remove it/,
    ],
    [
      'a reserved profile (not implemented)',
      { reservedProfileID: 'profile-1', reservedSlots: 2 },
      'spec.reservedProfileID',
      /vmop does not support reserved profiles yet/,
    ],
  ];
  denied.forEach(([what, spec, field, message], i) => {
    it(`denies ${what}`, async () => {
      await assertDenied(c.create(vmClass(ns, `class-${i}`, spec)), field, message);
    });
  });

  const allowed: [string, Record<string, unknown>][] = [
    ['the spec’s example class', { configSpec: alloc([200, 400], [1024, 2048]), hardware: { cpus: 2, memory: '4Gi' } }],
    ['an unlimited (-1) CPU limit', { configSpec: alloc([200, -1], undefined), hardware: { cpus: 2, memory: '4Gi' } }],
    [
      'the spec’s NIC example class',
      {
        configSpec: {
          _typeName: 'VirtualMachineConfigSpec',
          deviceChange: [
            {
              _typeName: 'VirtualDeviceConfigSpec',
              device: { _typeName: 'VirtualE1000', key: -100 },
              operation: 'add',
            },
            {
              _typeName: 'VirtualDeviceConfigSpec',
              device: { _typeName: 'VirtualVmxnet2', key: -200 },
              operation: 'add',
            },
          ],
        },
        hardware: { cpus: 2, memory: '4Gi' },
      },
    ],
  ];
  allowed.forEach(([what, spec], i) => {
    it(`allows ${what}`, async () => {
      await assertAllowed(c.create(vmClass(ns, `ok-${i}`, spec)));
    });
  });
});
