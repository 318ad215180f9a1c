// status.network.interfaces: the guest's network adapters as the provider reports them (already in device
// order, MACs, origins and states lower-case), named after the spec's interfaces, with addresses (prefix
// length, origin, state), MAC, DHCP and DNS settings.
import type { GuestNIC } from '../../providers/interface.js';
import { interfacesOf } from './network-config.js';
import type { NetworkSpec } from './types.js';

/** status.network.interfaces from the guest's adapters (in device order), named after the spec's interfaces. */
export function guestInterfaces(network: NetworkSpec | undefined, nics: GuestNIC[]): Record<string, unknown>[] {
  const names = interfacesOf(network).map((i) => i.name);
  return nics.map((n, i) => ({
    ...(names[i] ? { name: names[i] } : {}),
    deviceKey: n.deviceKey,
    ip: {
      ...(n.autoConfiguration !== undefined ? { autoConfigurationEnabled: n.autoConfiguration } : {}),
      ...(n.dhcp4 !== undefined || n.dhcp6 !== undefined
        ? {
            dhcp: {
              ...(n.dhcp4 !== undefined ? { ip4: { enabled: n.dhcp4 } } : {}),
              ...(n.dhcp6 !== undefined ? { ip6: { enabled: n.dhcp6 } } : {}),
            },
          }
        : {}),
      ...(n.addresses.length
        ? {
            addresses: n.addresses.map((a) => ({
              address: a.prefixLength !== undefined ? `${a.ip}/${a.prefixLength}` : a.ip,
              ...(a.origin ? { origin: a.origin } : {}),
              ...(a.state ? { state: a.state } : {}),
              ...(a.lifetime ? { lifetime: a.lifetime } : {}),
            })),
          }
        : {}),
      ...(n.macAddress ? { macAddr: n.macAddress } : {}),
    },
    ...(n.dns ? { dns: { ...n.dns } } : {}),
  }));
}
