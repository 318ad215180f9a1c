// Admission rules that keep a tenant inside its namespace and away from the operator's state, one row per
// case: every Secret-reference field with traversal and encoding variants, vmop-owned annotations and labels,
// and the finalizer of a deployed VM.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secretReferences } from '../../src/api/v1alpha3/secret-refs.js';
import { validateVirtualMachine } from '../../src/webhooks/virtualmachine/validate/index.js';

const BASE = { apiVersion: 'vmoperator.vmware.com/v1alpha3', kind: 'VirtualMachine' };

function vmWith(bootstrap: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
  return {
    ...BASE,
    metadata: { name: 'vm', namespace: 'my-namespace', ...metadata },
    spec: { className: 'c', imageName: 'i', storageClass: 's', powerState: 'PoweredOn', bootstrap },
  };
}

/** Each Secret-reference field: the field path of its name, and a bootstrap that puts `ref` there. */
export const SECRET_FIELDS: [string, (ref: { name: string; key: string }) => Record<string, unknown>][] = [
  ['spec.bootstrap.cloudInit.rawCloudConfig.name', (ref) => ({ cloudInit: { rawCloudConfig: ref } })],
  [
    'spec.bootstrap.cloudInit.cloudConfig.users[0].passwd.name',
    (ref) => ({ cloudInit: { cloudConfig: { users: [{ name: 'u', passwd: ref }] } } }),
  ],
  [
    'spec.bootstrap.cloudInit.cloudConfig.users[0].hashed_passwd.name',
    (ref) => ({ cloudInit: { cloudConfig: { users: [{ name: 'u', hashed_passwd: ref }] } } }),
  ],
  [
    'spec.bootstrap.cloudInit.cloudConfig.write_files[0].content.name',
    (ref) => ({ cloudInit: { cloudConfig: { write_files: [{ path: '/x', content: ref }] } } }),
  ],
  ['spec.bootstrap.sysprep.rawSysprep.name', (ref) => ({ sysprep: { rawSysprep: ref } })],
  [
    'spec.bootstrap.sysprep.sysprep.guiUnattended.password.name',
    (ref) => ({ sysprep: { sysprep: { guiUnattended: { password: ref } } } }),
  ],
  [
    'spec.bootstrap.sysprep.sysprep.userData.productID.name',
    (ref) => ({ sysprep: { sysprep: { userData: { fullName: 'a', orgName: 'b', productID: ref } } } }),
  ],
  [
    'spec.bootstrap.sysprep.sysprep.identification.domainAdminPassword.name',
    (ref) => ({ sysprep: { sysprep: { identification: { domainAdmin: 'a', domainAdminPassword: ref } } } }),
  ],
  [
    'spec.bootstrap.vAppConfig.properties[0].value.from.name',
    (ref) => ({ linuxPrep: {}, vAppConfig: { properties: [{ key: 'k', value: { from: ref } }] } }),
  ],
  ['spec.bootstrap.vAppConfig.rawProperties', (ref) => ({ linuxPrep: {}, vAppConfig: { rawProperties: ref.name } })],
];

export const HOSTILE_NAMES = [
  '../../vmop-system/secrets/vmop-vcenter-credentials',
  '..',
  '%2e%2e',
  '..%2fvmop-system',
  'a/b',
  'Secret',
  'name with space',
  '-leading',
  'x'.repeat(254),
];

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
});
