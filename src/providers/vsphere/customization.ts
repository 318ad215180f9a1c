// Guest OS customization for the LinuxPrep and Sysprep bootstrap providers: the vSphere CustomizationSpec
// (vim25 JSON) built from the intended network config — identity (host name, domain, time zone; Sysprep's
// computer name and workgroup, or raw sysprep XML), global DNS, and one adapter mapping per NIC (matched
// by MAC address, DHCP or fixed IP4/IP6 addresses with their gateways). Pure; applied once, before the first
// power-on, with CustomizeVM_Task.
import type { GuestIdentity, NetworkConfig } from '../interface.js';

type Vim = Record<string, unknown> & { _typeName: string };

/** The mask of an IP4 prefix length, e.g. 24 → 255.255.255.0. */
export function prefixToMask(prefix: number): string {
  const bits = prefix <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefix, 32))) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
}

/**
 * One NIC's settings. Windows reads DNS servers and the DNS suffix per adapter, so for Sysprep each adapter gets
 * its own nameservers or else the VM's, and spec.network.domainName as its suffix; Linux reads the global ones.
 */
function adapter(
  config: NonNullable<NetworkConfig['interfaces']>[number],
  mac: string | undefined,
  windowsDNS?: NetworkConfig['dns'],
): Vim {
  const ip = config.ip ?? {};
  const v4 = (ip.addresses ?? []).filter((a) => !a.includes(':'));
  const v6 = (ip.addresses ?? []).filter((a) => a.includes(':'));
  const [addr4, prefix4] = (v4[0] ?? '').split('/');
  const settings: Vim = {
    _typeName: 'CustomizationIPSettings',
    ip:
      ip.dhcp?.ip4?.enabled || !addr4
        ? { _typeName: 'CustomizationDhcpIpGenerator' }
        : { _typeName: 'CustomizationFixedIp', ipAddress: addr4 },
    ...(addr4 && !ip.dhcp?.ip4?.enabled ? { subnetMask: prefixToMask(Number(prefix4 ?? 32)) } : {}),
    ...(ip.gateway4 ? { gateway: [ip.gateway4] } : {}),
    ...(windowsDNS ? adapterDNS(config, windowsDNS) : {}),
    ...(v6.length > 0 || ip.dhcp?.ip6?.enabled
      ? {
          ipV6Spec: {
            _typeName: 'CustomizationIPSettingsIpV6AddressSpec',
            ip: ip.dhcp?.ip6?.enabled
              ? [{ _typeName: 'CustomizationDhcpIpV6Generator' }]
              : v6.map((a) => {
                  const [address, prefix] = a.split('/');
                  return { _typeName: 'CustomizationFixedIpV6', ipAddress: address, subnetMask: Number(prefix ?? 128) };
                }),
            ...(ip.gateway6 ? { gateway: [ip.gateway6] } : {}),
          },
        }
      : {}),
  };
  return { _typeName: 'CustomizationAdapterMapping', ...(mac ? { macAddress: mac } : {}), adapter: settings };
}

/** Sysprep's per-adapter DNS: the interface's nameservers or the VM's, and the VM's domain as the suffix. */
function adapterDNS(config: NonNullable<NetworkConfig['interfaces']>[number], dns: NetworkConfig['dns']): Vim | object {
  const servers = config.dns?.nameservers?.length ? config.dns.nameservers : dns.nameservers;
  return {
    ...(servers?.length ? { dnsServerList: servers } : {}),
    ...(dns.domainName ? { dnsDomain: dns.domainName } : {}),
  };
}

const password = (value: string): Vim => ({ _typeName: 'CustomizationPassword', value, plainText: true });

export function customizationSpec(config: NetworkConfig, macs: string[], identity: GuestIdentity): Vim {
  const host = { _typeName: 'CustomizationFixedName', name: config.dns.hostName };
  const id: Vim =
    identity.kind === 'linuxPrep'
      ? {
          _typeName: 'CustomizationLinuxPrep',
          hostName: host,
          domain: config.dns.domainName ?? '',
          ...(identity.timeZone ? { timeZone: identity.timeZone } : {}),
          ...(identity.hardwareClockIsUTC !== undefined ? { hwClockUTC: identity.hardwareClockIsUTC } : {}),
          ...(identity.password !== undefined ? { password: password(identity.password) } : {}),
          ...(identity.expirePassword ? { resetPassword: true } : {}),
          ...(identity.scriptText !== undefined ? { scriptText: identity.scriptText } : {}),
        }
      : identity.rawXML !== undefined
        ? { _typeName: 'CustomizationSysprepText', value: identity.rawXML }
        : {
            _typeName: 'CustomizationSysprep',
            guiUnattended: {
              _typeName: 'CustomizationGuiUnattended',
              timeZone: identity.timeZone ?? 85, // GMT
              autoLogon: identity.autoLogon ?? false,
              autoLogonCount: identity.autoLogonCount ?? 0,
              ...(identity.password !== undefined ? { password: password(identity.password) } : {}),
            },
            userData: {
              _typeName: 'CustomizationUserData',
              fullName: identity.fullName ?? 'vmop',
              orgName: identity.orgName ?? 'vmop',
              computerName: host,
              productId: identity.productID ?? '',
            },
            ...(identity.runOnce?.length
              ? { guiRunOnce: { _typeName: 'CustomizationGuiRunOnce', commandList: identity.runOnce } }
              : {}),
            identification:
              identity.domainAdmin && config.dns.domainName
                ? {
                    _typeName: 'CustomizationIdentification',
                    joinDomain: config.dns.domainName,
                    domainAdmin: identity.domainAdmin,
                    ...(identity.domainAdminPassword !== undefined
                      ? { domainAdminPassword: password(identity.domainAdminPassword) }
                      : {}),
                    ...(identity.domainOU ? { domainOU: identity.domainOU } : {}),
                  }
                : { _typeName: 'CustomizationIdentification', joinWorkgroup: identity.joinWorkgroup || 'WORKGROUP' },
            ...(identity.license
              ? {
                  licenseFilePrintData: {
                    _typeName: 'CustomizationLicenseFilePrintData',
                    autoMode: identity.license.autoMode,
                    ...(identity.license.autoUsers !== undefined ? { autoUsers: identity.license.autoUsers } : {}),
                  },
                }
              : {}),
            ...(identity.scriptText !== undefined ? { scriptText: identity.scriptText } : {}),
            ...(identity.expirePassword ? { resetPassword: true } : {}),
          };
  return {
    _typeName: 'CustomizationSpec',
    options:
      identity.kind === 'linuxPrep'
        ? { _typeName: 'CustomizationLinuxOptions' }
        : { _typeName: 'CustomizationWinOptions', changeSID: true, deleteAccounts: false },
    identity: id,
    globalIPSettings: {
      _typeName: 'CustomizationGlobalIPSettings',
      ...(config.dns.nameservers?.length ? { dnsServerList: config.dns.nameservers } : {}),
      ...(config.dns.searchDomains?.length ? { dnsSuffixList: config.dns.searchDomains } : {}),
    },
    nicSettingMap: (config.interfaces ?? []).map((i, n) =>
      adapter(i, macs[n], identity.kind === 'sysprep' ? config.dns : undefined),
    ),
  };
}
