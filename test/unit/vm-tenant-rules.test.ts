// Admission rules that keep a tenant inside its namespace and away from the operator's state, one row per
// case: every Secret-reference field with traversal and encoding variants, vmop-owned annotations and labels,
// and the finalizer of a deployed VM.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secretReferences } from '../../src/api/v1alpha6/secret-refs.js';
import { validateVirtualMachine } from '../../src/webhooks/virtualmachine/validate/index.js';
import { HOSTILE_NAMES, SECRET_FIELDS } from '../support/secret-fields.js';

const BASE = { apiVersion: 'vmoperator.vmware.com/v1alpha3', kind: 'VirtualMachine' };

function vmWith(bootstrap: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    ...BASE,
    metadata: { name: 'vm', namespace: 'my-namespace', ...metadata },
    spec: { className: 'c', imageName: 'i', storageClass: 's', powerState: 'PoweredOn', bootstrap },
  };
}

describe('Secret references at admission', () => {
  for (const [field, place] of SECRET_FIELDS) {
    for (const name of HOSTILE_NAMES) {
      it(`refuses ${field} = ${JSON.stringify(name.slice(0, 30))}`, () => {
        const errors = validateVirtualMachine({
          operation: 'CREATE',
          object: vmWith(place({ name, key: 'k' })),
          privileged: true, // not a matter of privilege: nobody may name a Secret elsewhere
        });
        const e = errors.find((x) => x.field === field);
        assert.ok(e, `no error at ${field}: ${JSON.stringify(errors)}`);
        assert.equal(e.type, 'Invalid');
        assert.match(String(e.detail), /RFC 1123 subdomain/);
      });
    }
    it(`accepts a valid Secret name at ${field}`, () => {
      const errors = validateVirtualMachine({
        operation: 'CREATE',
        object: vmWith(place({ name: 'my-secret.v1', key: 'user-data' })),
        privileged: false,
      });
      assert.deepEqual(
        errors.filter((e) => e.field.startsWith(field.replace(/\.name$/, ''))),
        [],
      );
    });
  }

  it('refuses a key that is not a Secret key', () => {
    const errors = validateVirtualMachine({
      operation: 'CREATE',
      object: vmWith({ cloudInit: { rawCloudConfig: { name: 's', key: '../x' } } }),
      privileged: false,
    });
    assert.deepEqual(
      errors.map((e) => [e.field, e.type]),
      [['spec.bootstrap.cloudInit.rawCloudConfig.key', 'Invalid']],
    );
  });

  it('finds every Secret-reference field of the table', () => {
    for (const [field, place] of SECRET_FIELDS) {
      const refs = secretReferences(vmWith(place({ name: 'n', key: 'k' })) as never);
      assert.ok(
        refs.some((r) => (r.whole ? r.field : `${r.field}.name`) === field),
        field,
      );
    }
  });
});

describe('operator-owned metadata and the finalizer', () => {
  const deployed = {
    ...vmWith({}, { finalizers: ['vmoperator.vmware.com/virtualmachine'] }),
    status: { uniqueID: 'vm-42' },
  };
  const rows: [
    string,
    'CREATE' | 'UPDATE',
    Record<string, unknown>,
    Record<string, unknown> | undefined,
    string | undefined,
  ][] = [
    [
      'a tenant forging the attached-disks record at create',
      'CREATE',
      vmWith({}, { annotations: { 'vmop.dev/attached-disks': '{"x":"disk-1"}' } }),
      undefined,
      'metadata.annotations[vmop.dev/attached-disks]',
    ],
    [
      'a tenant changing it on update',
      'UPDATE',
      vmWith({}, { annotations: { 'vmop.dev/attached-disks': '{"x":"disk-2"}' } }),
      vmWith({}, { annotations: { 'vmop.dev/attached-disks': '{"x":"disk-1"}' } }),
      'metadata.annotations[vmop.dev/attached-disks]',
    ],
    [
      'a tenant removing the customization mark',
      'UPDATE',
      vmWith({}),
      vmWith({}, { annotations: { 'vmop.dev/guest-customized': 't' } }),
      'metadata.annotations[vmop.dev/guest-customized]',
    ],
    [
      'a tenant adding a vmop.dev label',
      'UPDATE',
      vmWith({}, { labels: { 'vmop.dev/x': 'y' } }),
      vmWith({}),
      'metadata.labels[vmop.dev/x]',
    ],
    [
      'a tenant removing the finalizer of a deployed VM',
      'UPDATE',
      { ...deployed, metadata: { ...deployed.metadata, finalizers: [] } },
      deployed,
      'metadata.finalizers',
    ],
    [
      'a tenant removing the finalizer of a VM not yet in vSphere',
      'UPDATE',
      vmWith({}),
      vmWith({}, { finalizers: ['vmoperator.vmware.com/virtualmachine'] }),
      undefined,
    ],
    [
      'a tenant leaving vmop.dev annotations unchanged while editing others',
      'UPDATE',
      vmWith({}, { annotations: { 'vmop.dev/attached-disks': '{}', mine: '2' } }),
      vmWith({}, { annotations: { 'vmop.dev/attached-disks': '{}', mine: '1' } }),
      undefined,
    ],
  ];
  for (const [name, operation, object, oldObject, field] of rows) {
    it(`${field ? 'refuses' : 'allows'} ${name}`, () => {
      const tenant = validateVirtualMachine({ operation, object, oldObject, privileged: false });
      if (field) {
        const e = tenant.find((x) => x.field === field);
        assert.ok(e, JSON.stringify(tenant));
        assert.equal(e.type, 'Forbidden');
        assert.match(String(e.detail), /not allowed for non-admin users/);
      } else assert.deepEqual(tenant, []);
      assert.deepEqual(validateVirtualMachine({ operation, object, oldObject, privileged: true }), []);
    });
  }

  it('lets a metadata-only update through for a VM stored without the webhooks (no powerState)', () => {
    const bare = { ...BASE, metadata: { name: 'vm', namespace: 'ns' }, spec: { className: 'c', imageName: 'i' } };
    const withFinalizer = {
      ...bare,
      metadata: { ...bare.metadata, finalizers: ['vmoperator.vmware.com/virtualmachine'] },
    };
    assert.deepEqual(
      validateVirtualMachine({ operation: 'UPDATE', object: withFinalizer, oldObject: bare, privileged: true }),
      [],
    );
    assert.deepEqual(
      validateVirtualMachine({
        operation: 'UPDATE',
        object: { ...bare, metadata: { ...bare.metadata, labels: { a: 'b' } } },
        oldObject: bare,
        privileged: false,
      }),
      [],
    );
    // A spec change is judged by every rule, as before.
    const changed = { ...bare, spec: { ...bare.spec, powerState: 'Bogus' } };
    assert.ok(
      validateVirtualMachine({ operation: 'UPDATE', object: changed, oldObject: bare, privileged: true }).length > 0,
    );
  });

  it('lets the finalizer of a VM being deleted go without judging its spec', () => {
    const deleting = {
      ...BASE,
      metadata: {
        name: 'vm',
        namespace: 'ns',
        deletionTimestamp: '2026-12-01T00:00:00Z',
        finalizers: ['vmoperator.vmware.com/virtualmachine'],
      },
      spec: { className: 'c' },
    };
    const released = { ...deleting, metadata: { ...deleting.metadata, finalizers: [] } };
    assert.deepEqual(
      validateVirtualMachine({ operation: 'UPDATE', object: released, oldObject: deleting, privileged: true }),
      [],
    );
  });
});

describe('an object stored under an older, looser schema', () => {
  // A Sysprep answer file without userData: accepted before the answer file was typed, refused now.
  const stored = {
    ...vmWith(
      { sysprep: { sysprep: { guiUnattended: { timeZone: 4 } } } },
      { finalizers: ['vmoperator.vmware.com/virtualmachine'] },
    ),
    status: { uniqueID: 'vm-42' },
  };

  it('still takes an update of its metadata alone: the operator removes its finalizer, a user adds a label', () => {
    const unfinalized = { ...stored, metadata: { ...stored.metadata, finalizers: [] } };
    assert.deepEqual(
      validateVirtualMachine({ operation: 'UPDATE', object: unfinalized, oldObject: stored, privileged: true }),
      [],
    );
    const labelled = { ...stored, metadata: { ...stored.metadata, labels: { team: 'a' } } };
    assert.deepEqual(
      validateVirtualMachine({ operation: 'UPDATE', object: labelled, oldObject: stored, privileged: false }),
      [],
    );
  });

  it('still judges that metadata: a tenant may not remove the finalizer of the deployed VM', () => {
    const unfinalized = { ...stored, metadata: { ...stored.metadata, finalizers: [] } };
    const errors = validateVirtualMachine({
      operation: 'UPDATE',
      object: unfinalized,
      oldObject: stored,
      privileged: false,
    });
    assert.deepEqual(
      errors.map((e) => e.field),
      ['metadata.finalizers'],
    );
  });

  it('refuses a change of its spec until the spec is fixed, naming the field', () => {
    const off = { ...stored, spec: { ...stored.spec, powerState: 'PoweredOff' } };
    const errors = validateVirtualMachine({ operation: 'UPDATE', object: off, oldObject: stored, privileged: false });
    assert.ok(
      errors.some((e) => e.field === 'spec.bootstrap.sysprep.sysprep.userData' && e.type === 'Required'),
      JSON.stringify(errors),
    );
  });
});
