// vmop's own Network kind (vmop.dev/v1alpha1): a vSphere network that VirtualMachine interfaces connect to by
// name (spec.network.interfaces[].network), and how guests on it are addressed. An administrator declares
// them per namespace; the one labelled vmop.dev/default-network=true is used by interfaces that name none.
import { s } from '../schema.js';

export const NETWORK_GROUP = 'vmop.dev';
export const NETWORK_VERSION = 'v1alpha1';
export const NETWORK_API_VERSION = `${NETWORK_GROUP}/${NETWORK_VERSION}`;
/** The label that makes a Network its namespace's default. */
export const DEFAULT_NETWORK_LABEL = 'vmop.dev/default-network';

export const NetworkSpec = s.object(
  {
    portGroup: s.string({
      description: 'Name of the vSphere network (standard or distributed port group) the NICs connect to.',
    }),
    dhcp4: s.optional(s.boolean({ description: 'Guests get their IP4 addresses by DHCP on this network.' })),
    dhcp6: s.optional(s.boolean({ description: 'Guests get their IP6 addresses by DHCP on this network.' })),
    ipPool: s.optional(
      s.object(
        {
          apiGroup: s.optional(s.string({ description: 'API group of the pool; vmop.dev when omitted.' })),
          kind: s.optional(s.string({ description: 'Kind of the pool; IPPool when omitted.' })),
          name: s.string({ description: 'Name of the pool, in the Network’s namespace.' }),
        },
        {
          description:
            'Static addresses come from this pool through the Cluster API IPAM contract: one IPAddressClaim per ' +
            'VM interface, answered by the pool’s provider (vmop’s own for IPPool).',
        },
      ),
    ),
  },
  { description: 'A vSphere network for VirtualMachine interfaces.' },
);

export const NetworkStatus = s.object(
  {},
  { description: 'Observed state of the network.', preserveUnknownFields: true },
);
