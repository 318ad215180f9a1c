// The CustomizationSpec for LinuxPrep and Sysprep: identity, global DNS, one adapter mapping per NIC with
// fixed or DHCP addresses (IP4 and IP6), and raw sysprep XML.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { customizationSpec, prefixToMask } from '../../src/providers/vsphere/customization.js';
import type { NetworkConfig } from '../../src/controllers/virtualmachine/network-config.js';

const CONFIG: NetworkConfig = {
  dns: { hostName: 'vm-1', domainName: 'corp.local', nameservers: ['10.0.0.2'], searchDomains: ['corp.local'] },
  interfaces: [
    {
      name: 'eth0',
      ip: { addresses: ['192.168.0.3/24', '2001:db8::3/64'], gateway4: '192.168.0.1', gateway6: '2001:db8::1' },
    },
    { name: 'eth1', ip: { dhcp: { ip4: { enabled: true }, ip6: { enabled: true } } } },
  ],
};

describe('guest customization spec', () => {
  it('turns prefix lengths into masks', () => {
    assert.equal(prefixToMask(24), '255.255.255.0');
    assert.equal(prefixToMask(20), '255.255.240.0');
    assert.equal(prefixToMask(32), '255.255.255.255');
    assert.equal(prefixToMask(0), '0.0.0.0');
  });

  it('builds LinuxPrep with fixed and DHCP adapters matched by MAC', () => {
    const spec = customizationSpec(CONFIG, ['00:50:56:00:00:01', '00:50:56:00:00:02'], {
      kind: 'linuxPrep',
      timeZone: 'Europe/Sofia',
      hardwareClockIsUTC: true,
    });
    assert.deepEqual(spec.identity, {
      _typeName: 'CustomizationLinuxPrep',
      hostName: { _typeName: 'CustomizationFixedName', name: 'vm-1' },
      domain: 'corp.local',
      timeZone: 'Europe/Sofia',
      hwClockUTC: true,
    });
    assert.deepEqual(spec.globalIPSettings, {
      _typeName: 'CustomizationGlobalIPSettings',
      dnsServerList: ['10.0.0.2'],
      dnsSuffixList: ['corp.local'],
    });
    assert.deepEqual(spec.nicSettingMap, [
      {
        _typeName: 'CustomizationAdapterMapping',
        macAddress: '00:50:56:00:00:01',
        adapter: {
          _typeName: 'CustomizationIPSettings',
          ip: { _typeName: 'CustomizationFixedIp', ipAddress: '192.168.0.3' },
          subnetMask: '255.255.255.0',
          gateway: ['192.168.0.1'],
          ipV6Spec: {
            _typeName: 'CustomizationIPSettingsIpV6AddressSpec',
            ip: [{ _typeName: 'CustomizationFixedIpV6', ipAddress: '2001:db8::3', subnetMask: 64 }],
            gateway: ['2001:db8::1'],
          },
        },
      },
      {
        _typeName: 'CustomizationAdapterMapping',
        macAddress: '00:50:56:00:00:02',
        adapter: {
          _typeName: 'CustomizationIPSettings',
          ip: { _typeName: 'CustomizationDhcpIpGenerator' },
          ipV6Spec: {
            _typeName: 'CustomizationIPSettingsIpV6AddressSpec',
            ip: [{ _typeName: 'CustomizationDhcpIpV6Generator' }],
          },
        },
      },
    ]);
  });

  it('builds Sysprep from the object form or raw XML', () => {
    const win = customizationSpec(CONFIG, [], { kind: 'sysprep', fullName: 'Ops', orgName: 'Corp' });
    assert.equal((win.options as { _typeName: string })._typeName, 'CustomizationWinOptions');
    const id = win.identity as { userData: { computerName: { name: string }; fullName: string } };
    assert.equal(id.userData.computerName.name, 'vm-1');
    assert.equal(id.userData.fullName, 'Ops');
    const raw = customizationSpec(CONFIG, [], { kind: 'sysprep', rawXML: '<unattend/>' });
    assert.deepEqual(raw.identity, { _typeName: 'CustomizationSysprepText', value: '<unattend/>' });
  });

  it('gives each Sysprep adapter its DNS servers and the VM’s domain as its suffix, as Windows reads them', () => {
    const config: NetworkConfig = {
      ...CONFIG,
      interfaces: [CONFIG.interfaces![0]!, { ...CONFIG.interfaces![1]!, dns: { nameservers: ['10.9.9.9'] } }],
    };
    const win = customizationSpec(config, [], { kind: 'sysprep' });
    const adapters = (win.nicSettingMap as { adapter: Record<string, unknown> }[]).map((m) => [
      m.adapter.dnsServerList,
      m.adapter.dnsDomain,
    ]);
    assert.deepEqual(adapters, [
      [['10.0.0.2'], 'corp.local'],
      [['10.9.9.9'], 'corp.local'],
    ]);
    // Linux reads the global settings: its adapters carry none.
    const linux = customizationSpec(config, [], { kind: 'linuxPrep' });
    for (const m of linux.nicSettingMap as { adapter: Record<string, unknown> }[]) {
      assert.equal(m.adapter.dnsServerList, undefined);
      assert.equal(m.adapter.dnsDomain, undefined);
    }
  });
});
