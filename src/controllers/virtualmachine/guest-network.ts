// status.network.interfaces: the guest's network adapters as VM Tools report them (vSphere's guest.net),
// named after the spec's interfaces in device order, with addresses (prefix length, origin, state), MAC,
// DHCP and DNS settings.
import { interfacesOf, type NetworkSpecLike } from './network-config.js';

interface GuestNic {
  macAddress?: string;
  deviceConfigId?: number;
  dnsConfig?: { dhcp?: boolean; hostName?: string; domainName?: string; ipAddress?: string[]; searchDomain?: string[] };
  ipConfig?: {
    ipAddress?: { ipAddress: string; prefixLength?: number; origin?: string; state?: string; lifetime?: string }[];
    dhcp?: { ipv4?: { enable?: boolean }; ipv6?: { enable?: boolean } };
    autoConfigurationEnabled?: boolean;
  };
}

const lower = (v: string | undefined) => (v ? v.toLowerCase() : undefined);

export function guestInterfaces(
  network: NetworkSpecLike | undefined,
  nics: Record<string, unknown>[],
): Record<string, unknown>[] {
  const names = interfacesOf(network).map((i) => i.name);
  // Adapters of the VM (device key ≥ 0) in device order, which is the order of spec.network.interfaces.
  const adapters = (nics as GuestNic[])
    .filter((n) => (n.deviceConfigId ?? -1) >= 0)
    .sort((a, b) => (a.deviceConfigId ?? 0) - (b.deviceConfigId ?? 0));
  return adapters.map((n, i) => {
    const ip = n.ipConfig;
    const dns = n.dnsConfig;
    return {
      ...(names[i] ? { name: names[i] } : {}),
      ...(n.deviceConfigId !== undefined ? { deviceKey: n.deviceConfigId } : {}),
      ip: {
        ...(ip?.autoConfigurationEnabled !== undefined
          ? { autoConfigurationEnabled: ip.autoConfigurationEnabled }
          : {}),
        ...(ip?.dhcp
          ? {
              dhcp: {
                ...(ip.dhcp.ipv4 ? { ip4: { enabled: ip.dhcp.ipv4.enable === true } } : {}),
                ...(ip.dhcp.ipv6 ? { ip6: { enabled: ip.dhcp.ipv6.enable === true } } : {}),
              },
            }
          : {}),
        ...(ip?.ipAddress?.length
          ? {
              addresses: ip.ipAddress.map((a) => ({
                address: a.prefixLength !== undefined ? `${a.ipAddress}/${a.prefixLength}` : a.ipAddress,
                ...(lower(a.origin) ? { origin: lower(a.origin) } : {}),
                ...(lower(a.state) ? { state: lower(a.state) } : {}),
                ...(a.lifetime ? { lifetime: a.lifetime } : {}),
              })),
            }
          : {}),
        ...(n.macAddress ? { macAddr: n.macAddress.toLowerCase() } : {}),
      },
      ...(dns
        ? {
            dns: {
              ...(dns.dhcp !== undefined ? { dhcp: dns.dhcp } : {}),
              ...(dns.hostName ? { hostName: dns.hostName } : {}),
              ...(dns.domainName ? { domainName: dns.domainName } : {}),
              ...(dns.ipAddress?.length ? { nameservers: dns.ipAddress } : {}),
              ...(dns.searchDomain?.length ? { searchDomains: dns.searchDomain } : {}),
            },
          }
        : {}),
    };
  });
}
