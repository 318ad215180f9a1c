// Every field of a VirtualMachine that names a Secret, as tests place a reference there, and names a hostile
// tenant tries in them (traversal, encodings, case, length).

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
