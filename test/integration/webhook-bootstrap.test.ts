// Bootstrap rules through the real API server: one case per cell of the spec's two support tables (global
// and per-interface guest network configuration), the provider combinations VM Operator allows, and the
// Sysprep answer file's own rules (and, in newer versions, the scripts' and LinuxPrep's password).
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, letUserManageVMs, testNamespace } from '../support/ground.js';
import { API, assertAllowed, assertDenied, patchVM, vmObject } from '../support/vm.js';

type Provider = 'Cloud-Init' | 'LinuxPrep' | 'Sysprep';
const BOOTSTRAP: Record<Provider, Record<string, unknown>> = {
  'Cloud-Init': { cloudInit: { cloudConfig: {} } },
  LinuxPrep: { linuxPrep: { hardwareClockIsUTC: true } },
  Sysprep: { sysprep: { sysprep: { userData: { fullName: 'Ops', orgName: 'Corp' } } } },
};
const USER_DATA = { fullName: 'Ops', orgName: 'Corp' };

/** The spec's "Global Guest Network Configuration" table: field → value → providers with a ✓. */
const GLOBAL: [string, unknown, Provider[]][] = [
  ['hostName', 'guest-1', ['Cloud-Init', 'LinuxPrep', 'Sysprep']],
  ['domainName', 'example.com', ['Cloud-Init', 'LinuxPrep', 'Sysprep']],
  ['nameservers', ['8.8.8.8', '8.8.4.4'], ['LinuxPrep', 'Sysprep']],
  ['searchDomains', ['example.com'], ['LinuxPrep', 'Sysprep']],
];

/** The spec's "Per-Interface Guest Network Configuration" table. */
const PER_INTERFACE: [string, unknown, Provider[]][] = [
  ['guestDeviceName', 'ens192', ['Cloud-Init']],
  ['addresses', ['192.168.0.10/24'], ['Cloud-Init', 'LinuxPrep', 'Sysprep']],
  ['dhcp4', true, ['Cloud-Init', 'LinuxPrep', 'Sysprep']],
  ['dhcp6', true, ['Cloud-Init', 'LinuxPrep', 'Sysprep']],
  ['gateway4', '192.168.0.1', ['Cloud-Init', 'LinuxPrep', 'Sysprep']],
  ['gateway6', '2001:db8::1', ['Cloud-Init', 'LinuxPrep', 'Sysprep']],
  ['mtu', 1500, ['Cloud-Init']],
  ['nameservers', ['8.8.8.8'], ['Cloud-Init']],
  ['routes', [{ to: 'default', via: '192.168.0.1' }], ['Cloud-Init']],
  ['searchDomains', ['example.com'], ['Cloud-Init']],
];

/** Fields a gateway needs beside it to be valid on its own. */
function interfaceFor(field: string, value: unknown): Record<string, unknown> {
  const base: Record<string, unknown> = { name: 'eth0', [field]: value };
  if (field === 'gateway4') base.addresses = ['192.168.0.10/24'];
  if (field === 'gateway6') base.addresses = ['2001:db8::a/64'];
  return base;
}

const providerNames = (ps: Provider[]) => ps.map((p) => (p === 'Cloud-Init' ? 'CloudInit' : p)).join(' and ');
const PROVIDERS: Provider[] = ['Cloud-Init', 'LinuxPrep', 'Sysprep'];

describe('bootstrap providers and the spec’s support tables', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('boot');
  });
  after(() => c.close());

  let n = 0;
  for (const [field, value, supported] of GLOBAL) {
    for (const provider of PROVIDERS) {
      const ok = supported.includes(provider);
      it(`spec.network.${field} with ${provider}: ${ok ? '✓ allowed' : `refused, naming ${providerNames(supported)}`}`, async () => {
        const vm = vmObject(ns, `global-${n++}`, { bootstrap: BOOTSTRAP[provider], network: { [field]: value } });
        if (ok) await assertAllowed(c.create(vm));
        else {
          await assertDenied(
            c.create(vm),
            `spec.network.${field}`,
            new RegExp(
              `${field} is available only with the following bootstrap providers: ${providerNames(supported)}`,
            ),
          );
        }
      });
    }
  }

  for (const [field, value, supported] of PER_INTERFACE) {
    for (const provider of PROVIDERS) {
      const ok = supported.includes(provider);
      it(`spec.network.interfaces[].${field} with ${provider}: ${ok ? '✓ allowed' : `refused, naming ${providerNames(supported)}`}`, async () => {
        const vm = vmObject(ns, `iface-${n++}`, {
          bootstrap: BOOTSTRAP[provider],
          network: { interfaces: [interfaceFor(field, value)] },
        });
        if (ok) await assertAllowed(c.create(vm));
        else {
          await assertDenied(
            c.create(vm),
            `spec.network.interfaces[0].${field}`,
            new RegExp(
              `${field} is available only with the following bootstrap providers: ${providerNames(supported)}`,
            ),
          );
        }
      });
    }
  }

  const combos: [string, Record<string, unknown>, string | undefined, RegExp | undefined][] = [
    [
      'Cloud-Init with LinuxPrep',
      { cloudInit: {}, linuxPrep: {} },
      'spec.bootstrap.cloudInit',
      /CloudInit may not be used with any other bootstrap provider/,
    ],
    [
      'Cloud-Init with vAppConfig',
      { cloudInit: {}, vAppConfig: { properties: [{ key: 'a', value: { value: 'b' } }] } },
      'spec.bootstrap.vAppConfig',
      /vAppConfig may not be used in conjunction with CloudInit/,
    ],
    [
      'LinuxPrep with Sysprep',
      { linuxPrep: {}, sysprep: { sysprep: { userData: USER_DATA } } },
      'spec.bootstrap.linuxPrep',
      /LinuxPrep may not be used with either CloudInit or Sysprep/,
    ],
    [
      'cloudConfig with rawCloudConfig',
      { cloudInit: { cloudConfig: {}, rawCloudConfig: { name: 's', key: 'k' } } },
      'spec.bootstrap.cloudInit',
      /cloudConfig and rawCloudConfig are mutually exclusive/,
    ],
    [
      'sysprep with rawSysprep',
      { sysprep: { sysprep: { userData: USER_DATA }, rawSysprep: { name: 's', key: 'k' } } },
      'spec.bootstrap.sysprep',
      /sysprep and rawSysprep are mutually exclusive/,
    ],
    [
      'Sysprep with neither sysprep nor rawSysprep',
      { sysprep: {} },
      'spec.bootstrap.sysprep',
      /either sysprep or rawSysprep must be provided/,
    ],
    [
      'vApp properties with rawProperties',
      { vAppConfig: { properties: [{ key: 'a' }], rawProperties: 'secret' } },
      'spec.bootstrap.vAppConfig',
      /properties and rawProperties are mutually exclusive/,
    ],
    [
      'a vApp property value with both from and value',
      { vAppConfig: { properties: [{ key: 'a', value: { value: 'v', from: { name: 's', key: 'k' } } }] } },
      'spec.bootstrap.vAppConfig.properties[0].value',
      /from and value are mutually exclusive/,
    ],
    ['LinuxPrep with vAppConfig', { linuxPrep: {}, vAppConfig: { rawProperties: 'secret' } }, undefined, undefined],
    [
      'Sysprep with vAppConfig',
      {
        sysprep: { rawSysprep: { name: 's', key: 'k' } },
        vAppConfig: { properties: [{ key: 'a', value: { value: 'b' } }] },
      },
      undefined,
      undefined,
    ],
    [
      'vAppConfig alone',
      { vAppConfig: { properties: [{ key: 'a', value: { from: { name: 's', key: 'k' } } }] } },
      undefined,
      undefined,
    ],
  ];
  // The answer file's rules (VM Operator's wording); spec.network.domainName is the domain Sysprep joins.
  const pw = (name: string) => ({ name, key: 'k' });
  const answers = (a: Record<string, unknown>, network?: Record<string, unknown>) => ({
    bootstrap: { sysprep: { sysprep: { userData: USER_DATA, ...a } } },
    ...(network ? { network } : {}),
  });
  const sysprepCases: [string, Record<string, unknown>, string | undefined, RegExp | undefined][] = [
    [
      'an answer file without userData',
      { bootstrap: { sysprep: { sysprep: { guiUnattended: { timeZone: 4 } } } } },
      'spec.bootstrap.sysprep.sysprep.userData',
      /Required value/,
    ],
    [
      'autoLogon without autoLogonCount',
      answers({ guiUnattended: { autoLogon: true, password: pw('admin') } }),
      'spec.bootstrap.sysprep.sysprep',
      /autoLogon requires autoLogonCount to be specified/,
    ],
    [
      'autoLogon without a password',
      answers({ guiUnattended: { autoLogon: true, autoLogonCount: 1 } }),
      'spec.bootstrap.sysprep.sysprep',
      /autoLogon requires password selector to be set/,
    ],
    [
      'a domain and a workgroup',
      answers({ identification: { joinWorkgroup: 'WG' } }, { domainName: 'corp.example.com' }),
      'spec.bootstrap.sysprep.sysprep',
      /spec.network.domainName and joinWorkgroup are mutually exclusive/,
    ],
    [
      'a domain without the account that joins it',
      answers({ identification: { domainOU: 'OU=VMs,DC=corp' } }, { domainName: 'corp.example.com' }),
      'spec.bootstrap.sysprep.sysprep',
      /spec.network.domainName requires domainAdmin and domainAdminPassword selector to be set/,
    ],
    [
      'a workgroup with a domain OU',
      answers({ identification: { joinWorkgroup: 'WG', domainOU: 'OU=VMs' } }),
      'spec.bootstrap.sysprep.sysprep',
      /joinWorkgroup and domainAdmin\/domainAdminPassword\/domainOU are mutually exclusive/,
    ],
    [
      'a license mode outside perSeat and perServer',
      answers({ licenseFilePrintData: { autoMode: 'perCore' } }),
      'spec.bootstrap.sysprep.sysprep.licenseFilePrintData.autoMode',
      /Unsupported value: "perCore"/,
    ],
    [
      'every part of the answer file, joining a domain',
      answers(
        {
          guiRunOnce: { commands: ['cmd /c echo hi'] },
          guiUnattended: { autoLogon: true, autoLogonCount: 2, password: pw('admin'), timeZone: 4 },
          identification: { domainAdmin: 'joiner', domainAdminPassword: pw('join'), domainOU: 'OU=VMs,DC=corp' },
          licenseFilePrintData: { autoMode: 'perServer', autoUsers: 5 },
        },
        { domainName: 'corp.example.com' },
      ),
      undefined,
      undefined,
    ],
    // Newer versions add a script (and LinuxPrep a password): given inline or from a Secret, not both.
    ...(API.endsWith('v1alpha3')
      ? []
      : ([
          [
            'a Sysprep script both inline and from a Secret',
            answers({ scriptText: { value: 'echo', from: pw('script') } }),
            'spec.bootstrap.sysprep.sysprep.scriptText.value',
            /from and value are mutually exclusive/,
          ],
          [
            'a LinuxPrep script both inline and from a Secret',
            { bootstrap: { linuxPrep: { scriptText: { value: 'echo', from: pw('script') } } } },
            'spec.bootstrap.linuxPrep.scriptText.value',
            /from and value are mutually exclusive/,
          ],
          [
            'LinuxPrep with a root password, an expiring one and a script',
            {
              bootstrap: {
                linuxPrep: { password: pw('root'), expirePasswordAfterNextLogin: true, scriptText: { value: 'echo' } },
              },
            },
            undefined,
            undefined,
          ],
        ] as [string, Record<string, unknown>, string | undefined, RegExp | undefined][])),
  ];
  sysprepCases.forEach(([what, spec, field, message], i) => {
    it(`${field ? 'denies' : 'allows'} ${what}`, async () => {
      const write = c.create(vmObject(ns, `sysprep-${i}`, spec));
      if (field) await assertDenied(write, field, message ?? /./);
      else await assertAllowed(write);
    });
  });

  combos.forEach(([what, bootstrap, field, message], i) => {
    it(`${field ? 'denies' : 'allows'} ${what}`, async () => {
      const write = c.create(vmObject(ns, `combo-${i}`, { bootstrap }));
      if (field) await assertDenied(write, field, message ?? /./);
      else await assertAllowed(write);
    });
  });

  it('denies a non-privileged change of the bootstrap provider kind, allows it for admin', async () => {
    await letUserManageVMs(ns);
    await c.create(vmObject(ns, 'switch', { bootstrap: BOOTSTRAP['Cloud-Init'] }));
    const user = client('user');
    const toLinuxPrep = { spec: { bootstrap: { cloudInit: null, linuxPrep: {} } } };
    try {
      await assertDenied(
        patchVM(user, ns, 'switch', toLinuxPrep),
        'spec.bootstrap.cloudInit',
        /bootstrap provider type cannot be changed/,
      );
      await assertAllowed(patchVM(c, ns, 'switch', toLinuxPrep));
    } finally {
      user.close();
    }
  });
});
