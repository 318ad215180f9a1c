// The mutating webhook through the real API server: defaults and the finalizer on create, the spec's
// spellings, restart by `nextRestartTime: now`, and UUIDs that only privileged accounts may choose.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, letUserManageVMs, testNamespace } from '../support/ground.js';
import { API, assertAllowed, assertDenied, patchStatus, patchVM, vmObject } from '../support/vm.js';

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
type Spec = Record<string, unknown> & {
  network?: { interfaces?: { name: string }[] };
  bootstrap?: { cloudInit?: { instanceID?: string } };
};

describe('VirtualMachine mutation', () => {
  let admin: KubeClient;
  let user: KubeClient;
  let ns: string;
  before(async () => {
    admin = client('admin');
    user = client('user');
    ns = await testNamespace('mutate');
    await letUserManageVMs(ns);
  });
  after(() => {
    admin.close();
    user.close();
  });

  it('defaults power state, UUIDs, the eth0 interface and the Cloud-Init instance ID on create', async () => {
    const vm = await admin.create(vmObject(ns, 'defaults', { bootstrap: { cloudInit: { cloudConfig: {} } } }));
    const spec = vm.spec as Spec;
    assert.equal(spec.powerState, 'PoweredOn');
    assert.match(String(spec.instanceUUID), UUID4);
    assert.match(String(spec.biosUUID), UUID4);
    assert.notEqual(spec.instanceUUID, spec.biosUUID);
    assert.deepEqual(spec.network?.interfaces, [{ name: 'eth0' }]);
    assert.equal(spec.bootstrap?.cloudInit?.instanceID, spec.biosUUID);
  });

  it('gives a CD-ROM image without a kind the default kind, on create and when an update empties it', async () => {
    const cdrom = (name: string, kind: string) => [{ name, image: { kind, name: 'vmi-0123456789abcdef0' } }];
    // The CD-ROM list is spec.cdrom up to v1alpha4 and spec.hardware.cdrom from v1alpha5.
    const at = (list: unknown) => (API.endsWith('/v1alpha6') ? { hardware: { cdrom: list } } : { cdrom: list });
    const read = (spec: Spec) =>
      (
        (API.endsWith('/v1alpha6') ? (spec.hardware as { cdrom: unknown })?.cdrom : spec.cdrom) as {
          image: { kind: string };
        }[]
      )[0]!.image.kind;
    const vm = await admin.create(vmObject(ns, 'cd-kind', { guestID: 'otherGuest', ...at(cdrom('cd1', '')) }));
    assert.equal(read(vm.spec as Spec), 'VirtualMachineImage');
    const emptied = await patchVM(admin, ns, 'cd-kind', { spec: at(cdrom('cd1', '')) });
    assert.equal(read(emptied.spec as Spec), 'VirtualMachineImage');
  });

  it("puts the operator's finalizer on a new VM once, beside the user's own", async () => {
    const plain = await admin.create(vmObject(ns, 'fin-plain'));
    assert.deepEqual(plain.metadata.finalizers, ['vmoperator.vmware.com/virtualmachine']);
    const own = vmObject(ns, 'fin-own');
    own.metadata.finalizers = ['example.com/keep', 'vmoperator.vmware.com/virtualmachine'];
    const kept = await admin.create(own);
    assert.deepEqual(kept.metadata.finalizers, ['example.com/keep', 'vmoperator.vmware.com/virtualmachine']);
  });

  it('adds no interface when networking is disabled, and keeps given interfaces', async () => {
    const off = await admin.create(vmObject(ns, 'netoff', { network: { disabled: true } }));
    assert.equal((off.spec as Spec).network?.interfaces, undefined);
    const two = await admin.create(
      vmObject(ns, 'twonics', { network: { interfaces: [{ name: 'eth0' }, { name: 'eth1' }] } }),
    );
    assert.deepEqual((two.spec as Spec).network?.interfaces, [{ name: 'eth0' }, { name: 'eth1' }]);
  });

  it('keeps a Cloud-Init instance ID that the user chose', async () => {
    const vm = await admin.create(vmObject(ns, 'ownid', { bootstrap: { cloudInit: { instanceID: 'my-id' } } }));
    assert.equal((vm.spec as Spec).bootstrap?.cloudInit?.instanceID, 'my-id');
  });

  const spellings: [string, Record<string, string>, Record<string, string>][] = [
    ['poweredOn', { powerState: 'poweredOn' }, { powerState: 'PoweredOn' }],
    ['poweredOff', { powerState: 'poweredOff' }, { powerState: 'PoweredOff' }],
    ['POWEREDOFF', { powerState: 'POWEREDOFF' }, { powerState: 'PoweredOff' }],
    ['hard', { powerOffMode: 'hard' }, { powerOffMode: 'Hard' }],
    ['soft', { suspendMode: 'soft' }, { suspendMode: 'Soft' }],
    ['trySoft', { restartMode: 'trySoft' }, { restartMode: 'TrySoft' }],
    ['TRYSOFT', { powerOffMode: 'TRYSOFT' }, { powerOffMode: 'TrySoft' }],
  ];
  spellings.forEach(([label, given, expected], i) => {
    it(`accepts the spec's spelling ${label} and stores the canonical value`, async () => {
      const vm = await admin.create(vmObject(ns, `spell-${i}`, given));
      for (const [k, v] of Object.entries(expected)) assert.equal((vm.spec as Spec)[k], v);
    });
  });

  it('normalises spellings on update too', async () => {
    await admin.create(vmObject(ns, 'spell-update', { powerState: 'PoweredOn' }));
    const vm = await patchVM(admin, ns, 'spell-update', { spec: { powerState: 'poweredoff' } });
    assert.equal((vm.spec as Spec).powerState, 'PoweredOff');
  });

  it('turns nextRestartTime "now" (any case) into the current time in RFC3339Nano', async () => {
    await admin.create(vmObject(ns, 'restart'));
    await patchStatus(admin, ns, 'restart', { powerState: 'PoweredOn' });
    for (const word of ['now', 'NOW', 'Now']) {
      const before = Date.now();
      const vm = await patchVM(admin, ns, 'restart', { spec: { nextRestartTime: word } });
      const stamp = String((vm.spec as Spec).nextRestartTime);
      assert.match(stamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$/);
      assert.ok(Date.parse(stamp) >= before - 1000 && Date.parse(stamp) <= Date.now() + 1000, stamp);
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  it('keeps the previous nextRestartTime when an update leaves it empty', async () => {
    await admin.create(vmObject(ns, 'restart-keep'));
    const restarted = await patchVM(admin, ns, 'restart-keep', { spec: { nextRestartTime: 'now' } });
    const stamp = (restarted.spec as Spec).nextRestartTime;
    const cleared = await patchVM(admin, ns, 'restart-keep', { spec: { nextRestartTime: '' } });
    assert.equal((cleared.spec as Spec).nextRestartTime, stamp);
    const removed = await patchVM(admin, ns, 'restart-keep', { spec: { nextRestartTime: null } });
    assert.equal((removed.spec as Spec).nextRestartTime, stamp);
  });

  it('denies a restart of a VM whose desired power state is not PoweredOn', async () => {
    await admin.create(vmObject(ns, 'restart-off', { powerState: 'PoweredOff' }));
    await assertDenied(
      patchVM(admin, ns, 'restart-off', { spec: { nextRestartTime: 'now' } }),
      'spec.nextRestartTime',
      /cannot restart a VM whose spec.powerState is "PoweredOff": only a VM that is to be PoweredOn can be restarted/,
    );
  });

  it('denies any nextRestartTime other than "now", naming the allowed values', async () => {
    await admin.create(vmObject(ns, 'restart-bad'));
    for (const value of ['2030-01-01T00:00:00Z', 'tomorrow', 'now!']) {
      await assertDenied(
        patchVM(admin, ns, 'restart-bad', { spec: { nextRestartTime: value } }),
        'spec.nextRestartTime',
        /the only allowed values are "now" \(any case\) to restart the VM, or empty/,
      );
    }
  });

  it('denies a nextRestartTime on create', async () => {
    await assertDenied(
      admin.create(vmObject(ns, 'restart-create', { nextRestartTime: 'now' })),
      'spec.nextRestartTime',
      /cannot restart VM on create/,
    );
  });

  it('lets privileged accounts choose the UUIDs on create', async () => {
    const instanceUUID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    const biosUUID = 'ffffffff-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    const vm = await assertAllowed(admin.create(vmObject(ns, 'uuids-admin', { instanceUUID, biosUUID })));
    assert.equal((vm.spec as Spec).instanceUUID, instanceUUID);
    assert.equal((vm.spec as Spec).biosUUID, biosUUID);
  });

  for (const field of ['instanceUUID', 'biosUUID']) {
    it(`denies ${field} on create from a non-privileged user`, async () => {
      await assertDenied(
        user.create(
          vmObject(ns, `uuid-user-${field.toLowerCase()}`, { [field]: '12345678-1234-4234-8234-123456789abc' }),
        ),
        `spec.${field}`,
        /Forbidden: restricted to privileged users/,
      );
    });

    it(`denies a change of ${field} after create, even by admin`, async () => {
      const name = `uuid-change-${field.toLowerCase()}`;
      await admin.create(vmObject(ns, name));
      await assertDenied(
        patchVM(admin, ns, name, { spec: { [field]: '12345678-1234-4234-8234-123456789abc' } }),
        `spec.${field}`,
        /field is immutable/,
      );
    });
  }

  it('rejects a malformed UUID with the schema', async () => {
    await assertDenied(
      admin.create(vmObject(ns, 'uuid-format', { biosUUID: 'not-a-uuid' })),
      'spec.biosUUID',
      /must be of type uuid/,
    );
  });

  it('lets the non-privileged user create a VM and get random UUIDs', async () => {
    const vm = await assertAllowed(user.create(vmObject(ns, 'by-user')));
    assert.match(String((vm.spec as Spec).instanceUUID), UUID4);
  });
});
