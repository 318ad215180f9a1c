// LinuxPrep and Sysprep through the test run's manager and vcsim: the customization spec the controller
// hands to CustomizeVM_Task before the first power-on is what vcsim applies at that power-on — host name, IP
// address and DNS search domains, read back with govc — the guest's customization status becomes the
// GuestCustomization condition, and a later power cycle does not customize again. The whole spec handed over
// (kept by vmop's vcsim) carries exactly what status.network.config shows, every part of a Sysprep answer file,
// and LinuxPrep's password and script, with the Secrets they name read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { client, govcCollect, ground, kubectl } from '../support/ground.js';
import { patchVM } from '../support/vm.js';
import { condition, eventsFor, eventually, getVM, vm, vmName, vmNamespace, waitForPower } from '../support/vms.js';

function guest(ns: string, name: string): Promise<Record<string, unknown>> {
  return govcCollect(`/DC0/vm/${ns}/${name}`, [
    'guest.hostName',
    'guest.ipAddress',
    'guest.customizationInfo',
    'guest.net',
  ]);
}

/** The customization spec the operator handed to vSphere for the VM (vmop's vcsim keeps it; Go's JSON names). */
async function handedCustomization(vmID: string): Promise<Spec> {
  const base = new URL(ground().vcsimURL);
  const ca = await readFile(ground().caCert);
  return new Promise((resolve, reject) => {
    https
      .get(`${base.origin}/vmop/customization?vm=${encodeURIComponent(vmID)}`, { ca }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(JSON.parse(body) as Spec) : reject(new Error(`${res.statusCode}: ${body}`)),
        );
      })
      .on('error', reject);
  });
}

interface Spec {
  identity: {
    hostName?: { name?: string };
    domain?: string;
    userData?: { computerName?: { name?: string } };
  };
  globalIPSettings: { dnsSuffixList?: string[]; dnsServerList?: string[] };
  nicSettingMap?: {
    adapter: {
      ip: { ipAddress?: string };
      subnetMask?: string;
      gateway?: string[];
      dnsServerList?: string[];
      dnsDomain?: string;
    };
  }[];
}

interface Config {
  dns: { hostName: string; domainName?: string; nameservers?: string[]; searchDomains?: string[] };
  interfaces?: {
    ip: { addresses?: string[]; gateway4?: string; dhcp?: { ip4?: { enabled?: boolean } } };
    dns?: { nameservers?: string[] };
  }[];
}

/**
 * What the guest must be given, derived from status.network.config alone (the spec's source table and the
 * customization fields each row maps to), in the shape of the handed spec's fields.
 */
function expectedFrom(config: Config, windows: boolean) {
  const mask = (prefix: number) =>
    [24, 16, 8, 0].map((s) => ((prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0) >>> s) & 0xff).join('.');
  return {
    hostName: config.dns.hostName,
    domain: windows ? undefined : (config.dns.domainName ?? ''),
    nameservers: config.dns.nameservers,
    searchDomains: config.dns.searchDomains,
    adapters: (config.interfaces ?? []).map((i) => {
      const v4 = (i.ip.addresses ?? []).find((a) => !a.includes(':'));
      const dhcp = i.ip.dhcp?.ip4?.enabled === true || !v4;
      return {
        ipAddress: dhcp ? undefined : v4!.split('/')[0],
        subnetMask: dhcp ? undefined : mask(Number(v4!.split('/')[1])),
        gateway: i.ip.gateway4 ? [i.ip.gateway4] : undefined,
        dnsServerList: windows ? (i.dns?.nameservers ?? config.dns.nameservers) : undefined,
        dnsDomain: windows ? config.dns.domainName : undefined,
      };
    }),
  };
}

/** The same fields, read from the handed spec. */
function givenIn(spec: Spec, windows: boolean) {
  return {
    hostName: windows ? spec.identity.userData?.computerName?.name : spec.identity.hostName?.name,
    domain: windows ? undefined : spec.identity.domain,
    nameservers: spec.globalIPSettings.dnsServerList,
    searchDomains: spec.globalIPSettings.dnsSuffixList,
    adapters: (spec.nicSettingMap ?? []).map(({ adapter: a }) => ({
      ipAddress: a.ip.ipAddress,
      subnetMask: a.subnetMask,
      gateway: a.gateway,
      dnsServerList: windows ? a.dnsServerList : undefined,
      dnsDomain: windows ? a.dnsDomain : undefined,
    })),
  };
}

describe('VM controller: LinuxPrep and Sysprep', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('custom');
  });
  after(() => c.close());

  const network = (hostName: string) => ({
    hostName,
    domainName: 'corp.local',
    nameservers: ['10.0.0.2'],
    searchDomains: ['corp.local'],
    interfaces: [{ name: 'eth0', addresses: ['192.168.0.3/24'], gateway4: '192.168.0.1' }],
  });

  it('customizes a Linux guest once: host name, address and search domains as vcsim applies them', async () => {
    const name = vmName('lnx');
    await c.create(
      vm(ns, name, {
        network: network('lnx-1'),
        bootstrap: { linuxPrep: { timeZone: 'Europe/Sofia', hardwareClockIsUTC: true } },
      }),
    );
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const g = await eventually('customized guest', async () => {
      const props = await guest(ns, name);
      return (props['guest.customizationInfo'] as { customizationStatus?: string } | undefined)?.customizationStatus ===
        'TOOLSDEPLOYPKG_SUCCEEDED'
        ? props
        : undefined;
    });
    assert.equal(g['guest.hostName'], 'lnx-1');
    assert.equal(g['guest.ipAddress'], '192.168.0.3');
    const net = g['guest.net'] as { dnsConfig?: { hostName?: string; searchDomain?: string[] } }[];
    assert.deepEqual(net[0]?.dnsConfig?.searchDomain, ['corp.local']);
    const obj = await eventually('GuestCustomization=True', async () => {
      const o = await getVM(c, ns, name);
      return condition(o, 'GuestCustomization')?.status === 'True' ? o : undefined;
    });
    assert.equal(condition(obj, 'VirtualMachineBootstrapReady')?.status, 'True');
    // What VM Tools report comes back as observed state: the primary address, also in `kubectl get vm -o wide`.
    await eventually('status.network.primaryIP4', async () => {
      const o = await getVM(c, ns, name);
      return (o.status as { network?: { primaryIP4?: string } }).network?.primaryIP4 === '192.168.0.3'
        ? true
        : undefined;
    });
    const wide = await kubectl(['get', 'vm', '-n', ns, name, '-o', 'wide', '--no-headers']);
    assert.match(wide.stdout, /192\.168\.0\.3/);
    // And the adapters as VM Tools report them, named after the spec's interfaces.
    const observed = await eventually('status.network.interfaces', async () => {
      const o = await getVM(c, ns, name);
      const list = (
        o.status as {
          network?: { interfaces?: { name?: string; ip?: { addresses?: { address?: string }[]; macAddr?: string } }[] };
        }
      ).network?.interfaces;
      return list?.[0]?.ip?.addresses?.length ? list : undefined;
    });
    assert.equal(observed[0]!.name, 'eth0');
    assert.ok(
      observed[0]!.ip!.addresses!.some((a) => a.address?.startsWith('192.168.0.3')),
      JSON.stringify(observed),
    );
    assert.match(observed[0]!.ip!.macAddr ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    // The whole customization handed to vSphere carries exactly what status.network.config shows.
    const config = (obj.status as { network?: { config?: Config } }).network!.config!;
    assert.deepEqual(givenIn(await handedCustomization(obj.status!.uniqueID!), false), expectedFrom(config, false));
    const marked = (obj.metadata as { annotations?: Record<string, string> }).annotations?.[
      'vmop.dev/guest-customized'
    ];
    assert.ok(marked);

    // Off and on again: no second customization (the mark stays, no second hand-over).
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOff', powerOffMode: 'Hard' } });
    await waitForPower(c, ns, name, 'PoweredOff');
    await patchVM(c, ns, name, { spec: { powerState: 'PoweredOn' } });
    await waitForPower(c, ns, name, 'PoweredOn');
    const again = await getVM(c, ns, name);
    assert.equal(
      (again.metadata as { annotations?: Record<string, string> }).annotations?.['vmop.dev/guest-customized'],
      marked,
    );
    const handovers = (await eventsFor(c, ns, name)).filter((e) => e.reason === 'GuestCustomization');
    assert.equal(handovers.length, 1);
    assert.equal(handovers[0]!.count ?? 1, 1);
  });

  it('customizes a Windows guest with Sysprep: computer name and address', async () => {
    const name = vmName('win');
    await c.create(
      vm(ns, name, {
        network: network('win-1'),
        bootstrap: { sysprep: { sysprep: { userData: { fullName: 'Ops', orgName: 'Corp' } } } },
      }),
    );
    const on = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const g = await eventually('customized guest', async () => {
      const props = await guest(ns, name);
      return props['guest.hostName'] === 'win-1' ? props : undefined;
    });
    assert.equal(g['guest.ipAddress'], '192.168.0.3');
    // Windows reads DNS per adapter: the handed spec carries status.network.config's DNS there, too.
    const config = (on.status as { network?: { config?: Config } }).network!.config!;
    const given = givenIn(await handedCustomization(on.status!.uniqueID!), true);
    assert.deepEqual(given, expectedFrom(config, true));
    assert.deepEqual(given.adapters[0]?.dnsServerList, ['10.0.0.2']);
  });

  /** A Secret in the test namespace with one key per entry. */
  const secret = (name: string, data: Record<string, string>) =>
    c.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: data });
  /** The identity part of the handed spec (Go's JSON names of vim25's customization types). */
  const handedIdentity = async (vmID: string) =>
    (await handedCustomization(vmID)).identity as unknown as Record<string, Record<string, unknown> | unknown>;

  it('hands every part of the Sysprep answer file to vSphere, Secrets read from the VM’s namespace', async () => {
    await secret('win-secrets', { password: 'Adm1n!', domain_admin_password: 'J0in!', product_id: 'AAAAA-BBBBB' });
    await secret('win-script', { 'setup.cmd': 'echo customized' });
    const name = vmName('winall');
    // Written in v1alpha6, which adds the script and the expiring password to v1alpha3's answer file.
    const obj = vm(ns, name, {
      network: network('win-2'),
      bootstrap: {
        sysprep: {
          sysprep: {
            guiRunOnce: { commands: ['cmd /c echo one', 'cmd /c echo two'] },
            guiUnattended: { autoLogon: true, autoLogonCount: 2, password: { name: 'win-secrets' }, timeZone: 4 },
            identification: {
              domainAdmin: 'joiner',
              domainAdminPassword: { name: 'win-secrets' },
              domainOU: 'OU=VMs,DC=corp,DC=local',
            },
            licenseFilePrintData: { autoMode: 'perServer', autoUsers: 5 },
            userData: { fullName: 'Ops', orgName: 'Corp', productID: { name: 'win-secrets' } },
            expirePasswordAfterNextLogin: true,
            scriptText: { from: { name: 'win-script', key: 'setup.cmd' } },
          },
        },
      },
    });
    obj.apiVersion = 'vmoperator.vmware.com/v1alpha6';
    await c.create(obj);
    const on = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const id = await handedIdentity(on.status!.uniqueID!);
    assert.deepEqual(id.guiRunOnce, { commandList: ['cmd /c echo one', 'cmd /c echo two'] });
    assert.deepEqual(id.guiUnattended, {
      password: { value: 'Adm1n!', plainText: true },
      timeZone: 4,
      autoLogon: true,
      autoLogonCount: 2,
    });
    assert.deepEqual(id.identification, {
      joinDomain: 'corp.local',
      domainAdmin: 'joiner',
      domainAdminPassword: { value: 'J0in!', plainText: true },
      domainOU: 'OU=VMs,DC=corp,DC=local',
    });
    assert.deepEqual(id.licenseFilePrintData, { autoMode: 'perServer', autoUsers: 5 });
    const user = id.userData as Record<string, unknown>;
    assert.deepEqual([user.fullName, user.orgName, user.productId], ['Ops', 'Corp', 'AAAAA-BBBBB']);
    assert.equal(id.scriptText, 'echo customized');
    assert.equal(id.resetPassword, true);
  });

  it('hands LinuxPrep a root password from a Secret, its expiry and a script', async () => {
    await secret('root-pw', { pw: 's3cret' });
    const name = vmName('lnxall');
    const obj = vm(ns, name, {
      network: network('lnx-2'),
      bootstrap: {
        linuxPrep: {
          password: { name: 'root-pw', key: 'pw' },
          expirePasswordAfterNextLogin: true,
          scriptText: { value: '#!/bin/sh\necho customized' },
        },
      },
    });
    obj.apiVersion = 'vmoperator.vmware.com/v1alpha6';
    await c.create(obj);
    const on = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const id = await handedIdentity(on.status!.uniqueID!);
    assert.deepEqual(id.password, { value: 's3cret', plainText: true });
    assert.equal(id.resetPassword, true);
    assert.equal(id.scriptText, '#!/bin/sh\necho customized');
  });

  it('takes raw sysprep XML from a Secret', async () => {
    await c.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'unattend', namespace: ns },
      stringData: { 'unattend.xml': '<?xml version="1.0"?><unattend xmlns="urn:schemas-microsoft-com:unattend"/>' },
    });
    const name = vmName('raw');
    await c.create(
      vm(ns, name, {
        network: { interfaces: [{ name: 'eth0', addresses: ['192.168.0.9/24'], gateway4: '192.168.0.1' }] },
        bootstrap: { sysprep: { rawSysprep: { name: 'unattend', key: 'unattend.xml' } } },
      }),
    );
    await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const g = await eventually('customized guest', async () => {
      const props = await guest(ns, name);
      return props['guest.ipAddress'] === '192.168.0.9' ? props : undefined;
    });
    assert.equal(
      (g['guest.customizationInfo'] as { customizationStatus?: string }).customizationStatus,
      'TOOLSDEPLOYPKG_SUCCEEDED',
    );
  });
});
