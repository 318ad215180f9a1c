// Every field of a VirtualMachine that names a Secret, as tests place a reference there, and names a hostile
// tenant tries in them (traversal, encodings, case, length).

const USER_DATA = { fullName: 'a', orgName: 'b' };

/**
 * Each Secret-reference field: the field path of its name, a bootstrap that puts `ref` there, and the first API
 * version that has the field (v1alpha3 when not said).
 */
export const SECRET_FIELDS: [
  string,
  (ref: { name: string; key: string }) => Record<string, unknown>,
  { since: 'v1alpha5' }?,
][] = [
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
    (ref) => ({ sysprep: { sysprep: { guiUnattended: { password: ref }, userData: USER_DATA } } }),
  ],
  [
    'spec.bootstrap.sysprep.sysprep.userData.productID.name',
    (ref) => ({ sysprep: { sysprep: { userData: { ...USER_DATA, productID: ref } } } }),
  ],
  [
    'spec.bootstrap.sysprep.sysprep.identification.domainAdminPassword.name',
    (ref) => ({
      sysprep: { sysprep: { identification: { domainAdmin: 'a', domainAdminPassword: ref }, userData: USER_DATA } },
    }),
  ],
  [
    'spec.bootstrap.sysprep.sysprep.scriptText.from.name',
    (ref) => ({ sysprep: { sysprep: { scriptText: { from: ref }, userData: USER_DATA } } }),
    { since: 'v1alpha5' },
  ],
  ['spec.bootstrap.linuxPrep.password.name', (ref) => ({ linuxPrep: { password: ref } }), { since: 'v1alpha5' }],
  [
    'spec.bootstrap.linuxPrep.scriptText.from.name',
    (ref) => ({ linuxPrep: { scriptText: { from: ref } } }),
    { since: 'v1alpha5' },
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
