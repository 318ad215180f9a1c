// status.network.config row by row, as the spec's source table says (no IPAM yet: addresses and gateways
// come only from the spec).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  intendedNetworkConfig,
  networkDefaults,
  type NetworkDefaults,
  type NetworkModes,
} from '../../src/controllers/virtualmachine/network-config.js';

const NONE: NetworkDefaults = { nameservers: [], searchDomains: [] };
/** A ConfigMap that says its default network has no DHCP. */
const STATIC: NetworkDefaults = { ...NONE, dhcp4: false, dhcp6: false };
const CM = networkDefaults({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'vmop-network-config' },
  data: { nameservers: '8.8.8.8 8.8.4.4', searchDomains: 'hello.world, fu.bar,example.com' },
} as never);

describe('intended network config', () => {
  it('reads the ConfigMap: lists split on spaces and commas, DHCP flags (absent when not stated)', () => {
    assert.deepEqual(CM, {
      nameservers: ['8.8.8.8', '8.8.4.4'],
      searchDomains: ['hello.world', 'fu.bar', 'example.com'],
    });
    assert.deepEqual(networkDefaults(undefined), NONE);
    const dhcp = networkDefaults({ data: { dhcp4: 'true', dhcp6: 'False' } } as never);
    assert.equal(dhcp.dhcp4, true);
    assert.equal(dhcp.dhcp6, false);
  });

  it('gives the spec example: host name from the name, DNS from the ConfigMap, one interface', () => {
    const config = intendedNetworkConfig(
      'my-vm',
      { interfaces: [{ name: 'eth0', addresses: ['192.168.0.3/24'], gateway4: '192.168.0.1' }] },
      CM,
    );
    assert.deepEqual(config, {
      dns: {
        hostName: 'my-vm',
        nameservers: ['8.8.8.8', '8.8.4.4'],
        searchDomains: ['hello.world', 'fu.bar', 'example.com'],
      },
      interfaces: [{ name: 'eth0', ip: { addresses: ['192.168.0.3/24'], gateway4: '192.168.0.1' } }],
    });
  });

  it('prefers the spec: host name, domain name, nameservers, search domains', () => {
    const config = intendedNetworkConfig(
      'my-vm',
      { hostName: 'web-1', domainName: 'corp.local', nameservers: ['10.0.0.2'], searchDomains: ['corp.local'] },
      CM,
    );
    assert.deepEqual(config.dns, {
      hostName: 'web-1',
      domainName: 'corp.local',
      nameservers: ['10.0.0.2'],
      searchDomains: ['corp.local'],
    });
  });

  it('adds the default interface eth0 when none is given, and none when networking is disabled', () => {
    assert.deepEqual(intendedNetworkConfig('a', undefined, STATIC).interfaces, [{ name: 'eth0', ip: {} }]);
    assert.equal(intendedNetworkConfig('a', { disabled: true }, NONE).interfaces, undefined);
    assert.deepEqual(intendedNetworkConfig('a', undefined, NONE).dns, { hostName: 'a' });
  });

  it('per interface: DNS from the spec; DHCP from the spec or the network; no addresses or gateways under DHCP', () => {
    const config = intendedNetworkConfig(
      'a',
      {
        interfaces: [
          { name: 'eth0', nameservers: ['1.1.1.1'], searchDomains: ['x.y'], dhcp4: true },
          { name: 'eth1', dhcp6: true, addresses: ['192.168.1.5/24'], gateway4: '192.168.1.1' },
          { name: 'eth2', gateway4: 'None' },
        ],
      },
      STATIC,
    );
    assert.deepEqual(config.interfaces, [
      {
        name: 'eth0',
        ip: { dhcp: { ip4: { enabled: true } } },
        dns: { nameservers: ['1.1.1.1'], searchDomains: ['x.y'] },
      },
      {
        name: 'eth1',
        ip: { addresses: ['192.168.1.5/24'], dhcp: { ip6: { enabled: true } }, gateway4: '192.168.1.1' },
      },
      { name: 'eth2', ip: {} },
    ]);
    // A network with DHCP4 and DHCP6: both enabled, no addresses or gateways (no IPAM for it).
    const both = intendedNetworkConfig('a', undefined, { ...NONE, dhcp4: true, dhcp6: true });
    assert.deepEqual(both.interfaces, [
      { name: 'eth0', ip: { dhcp: { ip4: { enabled: true }, ip6: { enabled: true } } } },
    ]);
  });

  it('gives DHCP4 where nothing says otherwise: no addresses, no IP pool, no stated mode, no dhcp4: false', () => {
    const ifaces = (network: Parameters<typeof intendedNetworkConfig>[1], modes: NetworkModes[] = []) =>
      intendedNetworkConfig('a', network, NONE, modes).interfaces;
    const dhcp4 = { dhcp: { ip4: { enabled: true } } };
    // The default network of a ConfigMap without dhcp4: DHCP4, not DHCP6.
    assert.deepEqual(ifaces(undefined), [{ name: 'eth0', ip: dhcp4 }]);
    assert.deepEqual(ifaces({ interfaces: [{ name: 'eth0', gateway4: 'None' }] }), [{ name: 'eth0', ip: dhcp4 }]);
    // Static sources: the spec's addresses, the network's pool, the spec's own dhcp4: false.
    assert.deepEqual(ifaces({ interfaces: [{ name: 'eth0', addresses: ['fd00::5/64'] }] }), [
      { name: 'eth0', ip: { addresses: ['fd00::5/64'] } },
    ]);
    assert.deepEqual(ifaces(undefined, [{ pool: true }]), [{ name: 'eth0', ip: {} }]);
    assert.deepEqual(ifaces({ interfaces: [{ name: 'eth0', dhcp4: false }] }), [{ name: 'eth0', ip: {} }]);
    // A network (or ConfigMap) that states its modes is followed as stated.
    assert.deepEqual(ifaces(undefined, [{ dhcp4: false }]), [{ name: 'eth0', ip: {} }]);
    assert.deepEqual(ifaces(undefined, [{ dhcp4: true, pool: true }]), [{ name: 'eth0', ip: dhcp4 }]);
    assert.deepEqual(intendedNetworkConfig('a', undefined, STATIC).interfaces, [{ name: 'eth0', ip: {} }]);
  });
});
