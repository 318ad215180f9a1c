// Which Network each interface of a VM connects to: the one it names (a vmop.dev/v1alpha1 Network in the VM's
// namespace), else the namespace's default Network (label vmop.dev/default-network=true; the first by name if
// several), else none — the provider's default port group with the DHCP modes of ConfigMap vmop-network-config.
import { DEFAULT_NETWORK_LABEL, NETWORK_GROUP } from '../../api/vmop/network.js';
import type { Informer } from '../../runtime/informer.js';
import type { KubeObject } from '../../runtime/kube-client.js';
import { interfacesOf, type NetworkModes } from './network-config.js';
import type { NetworkSpec } from './types.js';

export interface InterfaceNetwork {
  /** The Network object's name, when there is one. */
  name?: string;
  portGroup?: string;
  modes?: NetworkModes;
  /** Where static addresses come from (an IPAM pool), when the Network has one. */
  pool?: { apiGroup: string; kind: string; name: string };
}

type InterfaceRef = { network?: { apiVersion?: string; kind?: string; name: string } };

interface NetworkObject extends KubeObject {
  spec?: {
    portGroup?: string;
    dhcp4?: boolean;
    dhcp6?: boolean;
    ipPool?: { apiGroup?: string; kind?: string; name: string };
  };
}

/** Each interface's network, or the error (worded for a condition) that stops the VM from being created. */
export function resolveNetworks(
  namespace: string,
  network: NetworkSpec | undefined,
  networks: Informer,
): { interfaces: InterfaceNetwork[] } | { error: string; reason: string } {
  const fromObject = (obj: NetworkObject): InterfaceNetwork => ({
    name: obj.metadata.name,
    portGroup: obj.spec?.portGroup,
    modes: { dhcp4: obj.spec?.dhcp4, dhcp6: obj.spec?.dhcp6, pool: obj.spec?.ipPool !== undefined },
    ...(obj.spec?.ipPool
      ? {
          pool: {
            apiGroup: obj.spec.ipPool.apiGroup ?? NETWORK_GROUP,
            kind: obj.spec.ipPool.kind ?? 'IPPool',
            name: obj.spec.ipPool.name,
          },
        }
      : {}),
  });
  const defaults = (networks.list() as NetworkObject[])
    .filter(
      (n) =>
        n.metadata.namespace === namespace &&
        (n.metadata.labels as Record<string, string> | undefined)?.[DEFAULT_NETWORK_LABEL] === 'true',
    )
    .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  const out: InterfaceNetwork[] = [];
  for (const [n, iface] of interfacesOf(network).entries()) {
    const ref = (iface as InterfaceRef).network;
    if (!ref) {
      out.push(defaults[0] ? fromObject(defaults[0]) : {});
      continue;
    }
    const group = ref.apiVersion?.split('/')[0];
    if ((ref.kind && ref.kind !== 'Network') || (group && group !== NETWORK_GROUP)) {
      return {
        reason: 'UnsupportedNetwork',
        error: `spec.network.interfaces[${n}].network: ${ref.kind ?? 'Network'} of ${ref.apiVersion ?? 'the default API'} is not supported; interfaces connect to ${NETWORK_GROUP} Network objects`,
      };
    }
    const obj = networks.get(`${namespace}/${ref.name}`) as NetworkObject | undefined;
    if (!obj) {
      return {
        reason: 'NotFound',
        error: `spec.network.interfaces[${n}].network: Network "${ref.name}" not found in namespace ${namespace}`,
      };
    }
    out.push(fromObject(obj));
  }
  return { interfaces: out };
}
