// status.network.config: the network configuration a VM is given to bootstrap its guest (intended, not
// observed), derived row by row as the spec's source table says. Global DNS comes from the VM's spec, else from
// the operator's network ConfigMap (`vmop-network-config`); each interface from its spec, else from the network
// it connects to: the default network, whose DHCP modes the same ConfigMap states, unless it names a Network
// object (or its namespace has a default one), whose modes apply, and whose IP pool (through IPAM) gives
// addresses and gateways the spec does not. A network that states no DHCP4 mode gives DHCP4 to an interface
// with no static source (no addresses in its spec, no IP pool, no `dhcp4: false`), as a port group without
// IPAM does on a real install; DHCP6 only where stated.
import type { KubeObject } from '../../runtime/kube-client.js';
import type { ConfigInterface, NetworkConfig } from '../../providers/interface.js';
import type { InterfaceSpec, NetworkSpec, VM } from './types.js';

export const NETWORK_CONFIGMAP = 'vmop-network-config';

/**
 * On a VM whose networking was disabled when it was deployed (written right before the deploy): a VM has the
 * networking it was deployed with, whatever spec.network.disabled says later (the spec: the field has no
 * effect on VMs already deployed).
 */
export const NETWORK_DISABLED_ANNOTATION = 'vmop.dev/network-disabled';

/**
 * spec.network as it applies to the VM: until it is deployed, the spec's; after, with `disabled` as it was at
 * the deploy (a change since has no effect: no NICs come or go, and the intended config and the guest's
 * bootstrap data keep the interfaces it has).
 */
export function deployedNetwork(vm: Pick<VM, 'metadata' | 'spec' | 'status'>): NetworkSpec | undefined {
  const network = vm.spec?.network;
  if (!vm.status?.uniqueID) return network;
  const disabled =
    (vm.metadata.annotations as Record<string, string> | undefined)?.[NETWORK_DISABLED_ANNOTATION] === 'true';
  if ((network?.disabled ?? false) === disabled) return network;
  return { ...network, disabled };
}

/** What the operator's network ConfigMap says (all optional). */
export interface NetworkDefaults {
  nameservers: string[];
  searchDomains: string[];
  /** The default network hands out IP4 / IP6 addresses by DHCP; undefined where the ConfigMap does not say. */
  dhcp4?: boolean;
  dhcp6?: boolean;
}

const list = (v: string | undefined) => (v ?? '').split(/[\s,]+/).filter(Boolean);
const flag = (v: string | undefined) => ((v ?? '').trim() === '' ? undefined : /^(true|yes|1)$/i.test(v!.trim()));

/** Keys: nameservers, searchDomains (comma- or space-separated), dhcp4, dhcp6 ("true"/"false"). */
export function networkDefaults(configMap: KubeObject | undefined): NetworkDefaults {
  const data = (configMap as { data?: Record<string, string> } | undefined)?.data ?? {};
  const dhcp4 = flag(data.dhcp4);
  const dhcp6 = flag(data.dhcp6);
  return {
    nameservers: list(data.nameservers),
    searchDomains: list(data.searchDomains),
    ...(dhcp4 !== undefined ? { dhcp4 } : {}),
    ...(dhcp6 !== undefined ? { dhcp6 } : {}),
  };
}

export type { ConfigInterface, NetworkConfig };

const nonEmpty = <T>(a: T[] | undefined): T[] | undefined => (a && a.length > 0 ? a : undefined);

/** The interfaces a VM gets: the spec's, or one named eth0 (none when networking is disabled). */
export function interfacesOf(network: NetworkSpec | undefined): InterfaceSpec[] {
  if (network?.disabled) return [];
  return network?.interfaces && network.interfaces.length > 0 ? network.interfaces : [{ name: 'eth0' }];
}

/** How the network an interface connects to hands out addresses. */
export interface NetworkModes {
  /** Undefined: the network does not say (DHCP4 for interfaces with no static source, no DHCP6). */
  dhcp4?: boolean;
  dhcp6?: boolean;
  /** The network has an IP pool (addresses come from IPAM). */
  pool?: boolean;
}

/** What IPAM gave an interface: addresses with prefix length, and the gateway of their network. */
export interface IPAMResult {
  addresses: string[];
  gateway4?: string;
  gateway6?: string;
}

function configInterface(spec: InterfaceSpec, stated: NetworkModes, ipam?: IPAMResult): ConfigInterface {
  const staticSource = nonEmpty(spec.addresses) !== undefined || stated.pool === true || spec.dhcp4 === false;
  const net = { dhcp4: stated.dhcp4 ?? !staticSource, dhcp6: stated.dhcp6 ?? false };
  const dhcp4 = spec.dhcp4 === true || net.dhcp4;
  const dhcp6 = spec.dhcp6 === true || net.dhcp6;
  // Addresses: the spec's; else IPAM's, unless the network does DHCP4 and DHCP6 (then none).
  const addresses = nonEmpty(spec.addresses) ?? (net.dhcp4 && net.dhcp6 ? undefined : nonEmpty(ipam?.addresses));
  // Gateways: the spec's ("None" means none); else IPAM's, unless the network does DHCP for that family.
  const gateway = (g: string | undefined) => (g && g !== 'None' ? g : undefined);
  const gateway4 = spec.gateway4 ? gateway(spec.gateway4) : net.dhcp4 ? undefined : ipam?.gateway4;
  const gateway6 = spec.gateway6 ? gateway(spec.gateway6) : net.dhcp6 ? undefined : ipam?.gateway6;
  // As in the spec's example, only the families that use DHCP are listed.
  const dhcp = {
    ...(dhcp4 ? { ip4: { enabled: true } } : {}),
    ...(dhcp6 ? { ip6: { enabled: true } } : {}),
  };
  const dns = {
    ...(nonEmpty(spec.nameservers) ? { nameservers: spec.nameservers } : {}),
    ...(nonEmpty(spec.searchDomains) ? { searchDomains: spec.searchDomains } : {}),
  };
  return {
    name: spec.name,
    ip: {
      ...(addresses ? { addresses } : {}),
      ...(Object.keys(dhcp).length > 0 ? { dhcp } : {}),
      ...(gateway4 ? { gateway4 } : {}),
      ...(gateway6 ? { gateway6 } : {}),
    },
    ...(Object.keys(dns).length > 0 ? { dns } : {}),
  };
}

/** The intended network configuration of a VM named `name` with `spec.network` = `network`. */
export function intendedNetworkConfig(
  name: string,
  network: NetworkSpec | undefined,
  defaults: NetworkDefaults,
  /** The modes of each interface's network (Network objects); the ConfigMap's default network where missing. */
  modes: (NetworkModes | undefined)[] = [],
  /** What IPAM gave each interface, where its network has a pool. */
  ipam: (IPAMResult | undefined)[] = [],
): NetworkConfig {
  const nameservers = nonEmpty(network?.nameservers) ?? nonEmpty(defaults.nameservers);
  const searchDomains = nonEmpty(network?.searchDomains) ?? nonEmpty(defaults.searchDomains);
  const interfaces = interfacesOf(network).map((i, n) => configInterface(i, modes[n] ?? defaults, ipam[n]));
  return {
    dns: {
      hostName: network?.hostName || name,
      ...(network?.domainName ? { domainName: network.domainName } : {}),
      ...(nameservers ? { nameservers } : {}),
      ...(searchDomains ? { searchDomains } : {}),
    },
    ...(interfaces.length > 0 ? { interfaces } : {}),
  };
}
