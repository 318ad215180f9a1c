// Network and host name rules through the real API server, one case per rule; and the spec's note that the
// network configuration is immutable once the VM is deployed (disabled may change, to no effect).
import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../src/runtime/kube-client.js';
import { client, testNamespace } from '../support/ground.js';
import { assertAllowed, assertDenied, patchStatus, patchVM, vmObject } from '../support/vm.js';

const ci = { bootstrap: { cloudInit: { cloudConfig: {} } } };
const iface = (extra: Record<string, unknown>) => ({ ...ci, network: { interfaces: [{ name: 'eth0', ...extra }] } });

interface Case {
  name: string;
  spec: Record<string, unknown>;
  vmName?: string;
  field?: string;
  message?: RegExp;
}

const DENIED: Case[] = [
  {
    name: 'an address without a prefix length',
    spec: iface({ addresses: ['192.168.0.10'] }),
    field: 'spec.network.interfaces[0].addresses[0]',
    message: /must be an IP address with a prefix length/,
  },
  {
    name: 'an address that is not an IP',
    spec: iface({ addresses: ['300.1.1.1/24'] }),
    field: 'spec.network.interfaces[0].addresses[0]',
    message: /is not an IPv4 or IPv6 address/,
  },
  {
    name: 'an IPv4 prefix longer than 32',
    spec: iface({ addresses: ['10.0.0.1/33'] }),
    field: 'spec.network.interfaces[0].addresses[0]',
    message: /prefix length must be 0 to 32/,
  },
  {
    name: 'gateway4 without an IPv4 address',
    spec: iface({ addresses: ['2001:db8::a/64'], gateway4: '192.168.0.1' }),
    field: 'spec.network.interfaces[0].gateway4',
    message: /gateway4 must have an IPv4 address in the addresses field/,
  },
  {
    name: 'gateway4 that is not an IPv4 address',
    spec: iface({ addresses: ['192.168.0.10/24'], gateway4: '2001:db8::1' }),
    field: 'spec.network.interfaces[0].gateway4',
    message: /must be a valid IPv4 address/,
  },
  {
    name: 'gateway6 without an IPv6 address',
    spec: iface({ addresses: ['192.168.0.10/24'], gateway6: '2001:db8::1' }),
    field: 'spec.network.interfaces[0].gateway6',
    message: /gateway6 must have an IPv6 address/,
  },
  {
    name: 'dhcp4 with an IPv4 address',
    spec: iface({ dhcp4: true, addresses: ['192.168.0.10/24'] }),
    field: 'spec.network.interfaces[0].dhcp4',
    message: /dhcp4 cannot be used with IPv4 addresses in addresses field/,
  },
  {
    name: 'dhcp4 with gateway4',
    spec: iface({ dhcp4: true, gateway4: '192.168.0.1' }),
    field: 'spec.network.interfaces[0].gateway4',
    message: /gateway4 is mutually exclusive with dhcp4/,
  },
  {
    name: 'dhcp6 with an IPv6 address',
    spec: iface({ dhcp6: true, addresses: ['2001:db8::a/64'] }),
    field: 'spec.network.interfaces[0].dhcp6',
    message: /dhcp6 cannot be used with IPv6 addresses/,
  },
  {
    name: 'dhcp6 with gateway6',
    spec: iface({ dhcp6: true, gateway6: '2001:db8::1' }),
    field: 'spec.network.interfaces[0].gateway6',
    message: /gateway6 is mutually exclusive with dhcp6/,
  },
  {
    name: 'an interface nameserver that is not an IP',
    spec: iface({ nameservers: ['dns.example.com'] }),
    field: 'spec.network.interfaces[0].nameservers[0]',
    message: /must be an IPv4 or IPv6 address/,
  },
  {
    name: 'a global nameserver that is not an IP',
    spec: { bootstrap: { linuxPrep: {} }, network: { nameservers: ['8.8.8'] } },
    field: 'spec.network.nameservers[0]',
    message: /must be an IPv4 or IPv6 address/,
  },
  {
    name: 'a route to something that is not a CIDR',
    spec: iface({ routes: [{ to: '10.0.0.0', via: '10.0.0.1' }] }),
    field: 'spec.network.interfaces[0].routes[0].to',
    message: /or "default"/,
  },
  {
    name: 'a route via something that is not an IP',
    spec: iface({ routes: [{ to: 'default', via: 'gw' }] }),
    field: 'spec.network.interfaces[0].routes[0].via',
    message: /must be an IPv4 or IPv6 address/,
  },
  {
    name: 'a route that mixes IP families',
    spec: iface({ routes: [{ to: '10.0.0.0/8', via: '2001:db8::1' }] }),
    field: 'spec.network.interfaces[0].routes[0]',
    message: /cannot mix IP address families/,
  },
  {
    name: 'an MTU below 68',
    spec: iface({ mtu: 40 }),
    field: 'spec.network.interfaces[0].mtu',
    message: /must be between 68 and 9000 bytes/,
  },
  {
    name: 'an MTU above 9000',
    spec: iface({ mtu: 9001 }),
    field: 'spec.network.interfaces[0].mtu',
    message: /must be between 68 and 9000 bytes/,
  },
  {
    name: 'two interfaces with one name',
    spec: { network: { interfaces: [{ name: 'eth0' }, { name: 'eth0' }] } },
    field: 'spec.network.interfaces[1]',
    message: /Duplicate value/,
  },
  {
    name: 'a host name that is not a DNS label',
    spec: { network: { hostName: 'My_Host' } },
    field: 'spec.network.hostName',
    message: /must be a valid DNS label \(RFC 1123\)/,
  },
  {
    name: 'a host name longer than 63 characters',
    spec: { network: { hostName: 'a'.repeat(64) } },
    field: 'spec.network.hostName',
    message: /must be a valid DNS label/,
  },
  {
    name: 'a VM name with dots and no host name',
    vmName: 'web.example',
    spec: {},
    field: 'metadata.name',
    message: /is the guest's host name when spec.network.hostName is empty/,
  },
  {
    name: 'a Windows host name longer than 15 characters',
    spec: {
      bootstrap: { sysprep: { sysprep: { userData: { fullName: 'Ops', orgName: 'Corp' } } } },
      network: { hostName: 'a-very-long-windows-name' },
    },
    field: 'spec.network.hostName',
    message: /at most 15 characters for a Windows \(Sysprep\) guest/,
  },
  {
    name: 'a domain name without a top-level domain',
    spec: { network: { domainName: 'corp' } },
    field: 'spec.network.domainName',
    message: /top-level domain of two or more letters/,
  },
  {
    name: 'a domain name with an invalid label',
    spec: { network: { domainName: 'my_corp.example.com' } },
    field: 'spec.network.domainName',
    message: /must be a valid DNS name/,
  },
];

const ALLOWED: Case[] = [
  {
    name: 'IPv4 and IPv6 addresses with their gateways',
    spec: iface({ addresses: ['192.168.0.10/24', '2001:db8::a/64'], gateway4: '192.168.0.1', gateway6: '2001:db8::1' }),
  },
  { name: 'gateway4 "None"', spec: iface({ addresses: ['192.168.0.10/24'], gateway4: 'None' }) },
  { name: 'DHCP on both families', spec: iface({ dhcp4: true, dhcp6: true }) },
  {
    name: 'routes to default and to a CIDR',
    spec: iface({
      routes: [
        { to: 'default', via: '10.0.0.1' },
        { to: '2001:db8::/32', via: '2001:db8::1', metric: 5 },
      ],
    }),
  },
  { name: 'an MTU of 9000', spec: iface({ mtu: 9000 }) },
  { name: 'a host name and domain name', spec: { network: { hostName: 'web-01', domainName: 'example.com' } } },
  {
    name: 'a VM name with dots when hostName is a label',
    vmName: 'web.example',
    spec: { network: { hostName: 'web' } },
  },
];

describe('network and host name rules', () => {
  let c: KubeClient;
  let ns: string;
  before(async () => {
    c = client();
    ns = await testNamespace('net');
  });
  after(() => c.close());

  DENIED.forEach((row, i) => {
    it(`denies ${row.name}`, async () => {
      await assertDenied(
        c.create(vmObject(ns, row.vmName ? `${row.vmName}${i}` : `deny-${i}`, row.spec)),
        row.field ?? '',
        row.message ?? /./,
      );
    });
  });
  ALLOWED.forEach((row, i) => {
    it(`allows ${row.name}`, async () => {
      await assertAllowed(c.create(vmObject(ns, row.vmName ? `${row.vmName}${i}` : `allow-${i}`, row.spec)));
    });
  });

  it('lets the network change before the VM is deployed', async () => {
    await c.create(vmObject(ns, 'predeploy'));
    await assertAllowed(
      patchVM(c, ns, 'predeploy', { spec: { network: { interfaces: [{ name: 'eth0' }, { name: 'eth1' }] } } }),
    );
  });

  const deployedChanges: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'adding an interface',
      { interfaces: [{ name: 'eth0' }, { name: 'eth1' }] },
      'spec.network.interfaces',
      /network interfaces cannot be added or removed: .*redeploy the VM/,
    ],
    ['removing the interface', { interfaces: [] }, 'spec.network.interfaces', /cannot be added or removed/],
    [
      'renaming the interface',
      { interfaces: [{ name: 'eth9' }] },
      'spec.network.interfaces[0].name',
      /network interfaces cannot be renamed: .*redeploy the VM/,
    ],
    [
      'changing an interface setting',
      { interfaces: [{ name: 'eth0', dhcp4: true }] },
      'spec.network.interfaces[0]',
      /cannot change once the VM is deployed; to change it, redeploy the VM/,
    ],
    ['changing the host name', { hostName: 'other' }, 'spec.network.hostName', /redeploy the VM/],
  ];
  deployedChanges.forEach(([what, network, field, message], i) => {
    it(`denies ${what} once the VM is deployed, saying to redeploy`, async () => {
      const name = `deployed-${i}`;
      await c.create(vmObject(ns, name));
      await patchStatus(c, ns, name, { uniqueID: 'vm-42', powerState: 'PoweredOn' });
      await assertDenied(patchVM(c, ns, name, { spec: { network } }), field, message);
    });
  });

  it('allows spec.network.disabled to change once deployed (it has no effect then)', async () => {
    await c.create(vmObject(ns, 'deployed-disabled'));
    await patchStatus(c, ns, 'deployed-disabled', {
      conditions: [
        {
          type: 'VirtualMachineCreated',
          status: 'True',
          reason: 'Created',
          message: '',
          lastTransitionTime: new Date().toISOString(),
        },
      ],
    });
    await assertAllowed(patchVM(c, ns, 'deployed-disabled', { spec: { network: { disabled: true } } }));
  });
});
