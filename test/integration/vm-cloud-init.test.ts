// Cloud-Init bootstrap through the test run's manager and vcsim: the guestinfo ExtraConfig that govc reads back
// from the VM decodes (base64, gunzip) to the expected instance metadata — instance ID, host name, a netplan
// v2 config matched to the NIC's MAC address, SSH keys — and user data: the modelled cloudConfig with its
// Secret references resolved, or a gzip+base64 rawCloudConfig from a Secret. A missing Secret holds the
// power-on with a condition until it appears, and user data never shows in status, Events or the manager log.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, ground } from '../support/ground.js';
import { ownOperatorNamespace, OWN_MANAGER_LABEL, startOwnManager } from '../support/manager.js';
import {
  condition,
  eventsFor,
  eventually,
  getVM,
  guestinfo,
  vm,
  vmName,
  vmNamespace,
  vmNICs,
  waitForPower,
} from '../support/vms.js';

async function macs(ns: string, name: string): Promise<string[]> {
  return (await vmNICs(ns, name)).map((d) => d.macAddress!.toLowerCase());
}

interface IntendedConfig {
  dns: { hostName: string; domainName?: string; nameservers?: string[]; searchDomains?: string[] };
  interfaces?: {
    name: string;
    ip: { addresses?: string[]; gateway4?: string; gateway6?: string; dhcp?: { ip4?: unknown; ip6?: unknown } };
    dns?: { nameservers?: string[]; searchDomains?: string[] };
  }[];
}

/**
 * The Cloud-Init metadata the guest is given carries exactly what status.network.config shows: host name and
 * FQDN, and per interface (by its guest device name) addresses, gateways, DHCP families and DNS — the
 * interface's own, else the VM's.
 */
function assertMatchesStatus(metadata: unknown, config: IntendedConfig, deviceNames: Record<string, string> = {}) {
  const m = metadata as {
    hostname: string;
    'local-hostname': string;
    network: { ethernets: Record<string, Record<string, unknown>> };
  };
  assert.equal(m['local-hostname'], config.dns.hostName);
  assert.equal(
    m.hostname,
    config.dns.domainName ? `${config.dns.hostName}.${config.dns.domainName}` : config.dns.hostName,
  );
  const interfaces = config.interfaces ?? [];
  assert.equal(Object.keys(m.network.ethernets).length, interfaces.length);
  for (const i of interfaces) {
    const e = m.network.ethernets[deviceNames[i.name] ?? i.name];
    assert.ok(e, `no ethernet for ${i.name}`);
    const servers = i.dns?.nameservers ?? config.dns.nameservers;
    const search = i.dns?.searchDomains ?? config.dns.searchDomains;
    assert.deepEqual(
      {
        dhcp4: e.dhcp4,
        dhcp6: e.dhcp6,
        addresses: e.addresses,
        gateway4: e.gateway4,
        gateway6: e.gateway6,
        nameservers: e.nameservers,
      },
      {
        dhcp4: i.ip.dhcp?.ip4 !== undefined,
        dhcp6: i.ip.dhcp?.ip6 !== undefined,
        addresses: i.ip.addresses,
        gateway4: i.ip.gateway4,
        gateway6: i.ip.gateway6,
        nameservers:
          servers || search ? { ...(servers ? { addresses: servers } : {}), ...(search ? { search } : {}) } : undefined,
      },
      `interface ${i.name}`,
    );
  }
}

describe('VM controller: Cloud-Init', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await vmNamespace('cloudinit');
  });
  after(() => c.close());

  it('writes metadata with the network config and user data with its Secrets resolved into guestinfo', async () => {
    const marker = `s3cret-${Date.now()}`;
    await c.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bootstrap', namespace: ns },
      stringData: { passwd: `$6$${marker}`, motd: `welcome ${marker}\n` },
    });
    const name = vmName('ci');
    await c.create(
      vm(ns, name, {
        network: {
          hostName: 'web-1',
          domainName: 'corp.local',
          interfaces: [
            {
              name: 'eth0',
              guestDeviceName: 'ens192',
              addresses: ['192.168.0.3/24'],
              gateway4: '192.168.0.1',
              nameservers: ['10.0.0.2'],
              searchDomains: ['corp.local'],
              mtu: 9000,
              routes: [{ to: '10.10.0.0/16', via: '192.168.0.254' }],
            },
          ],
        },
        bootstrap: {
          cloudInit: {
            sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9 user@example'],
            cloudConfig: {
              timezone: 'Europe/Sofia',
              defaultUserEnabled: true,
              users: [{ name: 'ops', shell: '/bin/bash', hashed_passwd: { name: 'bootstrap', key: 'passwd' } }],
              runcmd: ['echo hello'],
              write_files: [{ path: '/etc/motd', content: { name: 'bootstrap', key: 'motd' } }],
            },
          },
        },
      }),
    );
    const obj = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const [mac] = await macs(ns, name);
    assert.ok(mac);
    const { metadata, userdata } = await guestinfo(ns, name);
    assertMatchesStatus(metadata, (obj.status as { network: { config: IntendedConfig } }).network.config, {
      eth0: 'ens192',
    });
    assert.deepEqual(metadata, {
      'instance-id': obj.spec.biosUUID,
      'local-hostname': 'web-1',
      hostname: 'web-1.corp.local',
      network: {
        version: 2,
        ethernets: {
          ens192: {
            match: { macaddress: mac },
            'set-name': 'ens192',
            dhcp4: false,
            dhcp6: false,
            addresses: ['192.168.0.3/24'],
            gateway4: '192.168.0.1',
            mtu: 9000,
            nameservers: { addresses: ['10.0.0.2'], search: ['corp.local'] },
            routes: [{ to: '10.10.0.0/16', via: '192.168.0.254' }],
          },
        },
      },
      'public-keys': ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9 user@example'],
    });
    assert.ok(userdata?.startsWith('#cloud-config\n'));
    assert.deepEqual(YAML.parse(userdata!), {
      timezone: 'Europe/Sofia',
      users: ['default', { name: 'ops', shell: '/bin/bash', hashed_passwd: `$6$${marker}` }],
      runcmd: ['echo hello'],
      // The CRD's defaults (encoding, owner, permissions) are part of what the guest gets.
      write_files: [
        {
          path: '/etc/motd',
          content: `welcome ${marker}\n`,
          encoding: 'text/plain',
          owner: 'root:root',
          permissions: '0644',
        },
      ],
    });
    assert.equal(condition(await getVM(c, ns, name), 'VirtualMachineBootstrapReady')?.status, 'True');

    // The user data's secrets stay out of status, Events and the manager's log.
    const status = JSON.stringify((await getVM(c, ns, name)).status);
    assert.ok(!status.includes(marker));
    assert.ok(!JSON.stringify(await eventsFor(c, ns, name)).includes(marker));
    const log = await readFile(path.join(ground().dir, 'logs', 'manager.log'), 'utf8');
    assert.ok(!log.includes(marker), 'the manager log holds no user data');
  });

  it('takes rawCloudConfig from a Secret (gzip+base64 there), and waits for a missing Secret', async () => {
    const name = vmName('raw');
    const userData = '#cloud-config\nruncmd:\n  - echo raw\n';
    await c.create(
      vm(ns, name, { bootstrap: { cloudInit: { rawCloudConfig: { name: 'raw-user-data', key: 'user-data' } } } }),
    );
    const waiting = await eventually(
      'bootstrap pending',
      async () => {
        const o = await getVM(c, ns, name);
        return condition(o, 'VirtualMachineBootstrapReady')?.status === 'False' ? o : undefined;
      },
      60_000,
    );
    assert.equal(condition(waiting, 'VirtualMachineBootstrapReady')?.reason, 'SecretNotFound');
    assert.match(
      condition(waiting, 'VirtualMachineBootstrapReady')!.message,
      new RegExp(`spec.bootstrap.cloudInit.rawCloudConfig: Secret "raw-user-data" not found in namespace ${ns}`),
    );
    assert.equal(waiting.status?.powerState, 'PoweredOff');
    assert.equal(condition(waiting, 'Ready')?.reason, 'BootstrapPending');

    await c.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'raw-user-data', namespace: ns },
      stringData: { 'user-data': gzipSync(Buffer.from(userData)).toString('base64') },
    });
    // Secrets are not watched (that would cache all of them): the held power-on is retried every 10 s.
    const obj = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
    const { metadata, userdata } = await guestinfo(ns, name);
    assert.equal(userdata, userData);
    assert.equal((metadata as { 'instance-id': string })['instance-id'], obj.spec.biosUUID);
    assert.equal((metadata as { 'local-hostname': string })['local-hostname'], name);
  });

  it('gives the guest the operator ConfigMap’s nameservers and search domains that status.network.config.dns shows', async () => {
    // (A manager of the test's own, with a vmop-network-config of its own: the shared one serves every test.)
    const opNS = await ownOperatorNamespace('cidns-op');
    await c.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'vmop-network-config', namespace: opNS },
      data: { nameservers: '10.1.1.1 10.1.1.2', searchDomains: 'example.org' },
    });
    const mgr = await startOwnManager({ id: opNS, namespace: opNS });
    try {
      const name = vmName('cidns');
      const network = { interfaces: [{ name: 'eth0' }, { name: 'eth1', nameservers: ['10.9.9.9'] }] };
      await c.create(
        vm(ns, name, { network, bootstrap: { cloudInit: { cloudConfig: {} } } }, { [OWN_MANAGER_LABEL]: opNS }),
      );
      const obj = await waitForPower(c, ns, name, 'PoweredOn', 60_000);
      const dns = (obj.status as { network?: { config?: { dns?: Record<string, unknown> } } }).network?.config?.dns;
      assert.deepEqual([dns?.nameservers, dns?.searchDomains], [['10.1.1.1', '10.1.1.2'], ['example.org']]);
      const { metadata } = await guestinfo(ns, name);
      // (eth0 by DHCP4, the default network stating no mode; eth1 with its own nameservers.)
      assertMatchesStatus(metadata, (obj.status as { network: { config: IntendedConfig } }).network.config);
      const ethernets = (metadata as { network: { ethernets: Record<string, { nameservers?: unknown }> } }).network
        .ethernets;
      // An interface without DNS of its own gets the VM's; one with its own nameservers keeps them.
      assert.deepEqual(ethernets.eth0?.nameservers, { addresses: ['10.1.1.1', '10.1.1.2'], search: ['example.org'] });
      assert.deepEqual(ethernets.eth1?.nameservers, { addresses: ['10.9.9.9'], search: ['example.org'] });
    } finally {
      await mgr.kill();
    }
  });
});
