// IP address management. The Cluster API IPAM contract's two kinds (ipam.cluster.x-k8s.io/v1beta1), a subset
// that holds every field the contract uses: an IPAddressClaim asks a pool for an address; the pool's provider
// answers with an IPAddress and the claim's status.addressRef. vmop's own pool kind (vmop.dev/v1alpha1
// IPPool) is served by vmop's provider, so the local environment works alone; any other provider's pool works
// as well, since the VM controller only creates claims and reads addresses.
import { s } from '../schema.js';
import { Condition } from '../v1alpha3/common.js';

export const CAPI_IPAM_GROUP = 'ipam.cluster.x-k8s.io';
export const CAPI_IPAM_VERSION = 'v1beta1';
export const CAPI_IPAM_API_VERSION = `${CAPI_IPAM_GROUP}/${CAPI_IPAM_VERSION}`;

const PoolRef = s.object(
  {
    apiGroup: s.string({ description: 'API group of the pool.' }),
    kind: s.string({ description: 'Kind of the pool.' }),
    name: s.string({ description: 'Name of the pool, in the claim’s namespace.' }),
  },
  { description: 'The pool an address comes from.' },
);

export const IPAddressClaimSpec = s.object(
  { poolRef: PoolRef },
  { description: 'A request for one address from a pool.' },
);

export const IPAddressClaimStatus = s.object(
  {
    addressRef: s.optional(
      s.object({ name: s.string({ description: 'Name of the IPAddress.' }) }, { description: 'The address given.' }),
    ),
    conditions: s.optional(s.array(Condition)),
  },
  { description: 'What the pool’s provider answered.' },
);

export const IPAddressSpec = s.object(
  {
    claimRef: s.object(
      { name: s.string({ description: 'Name of the claim.' }) },
      { description: 'The claim it answers.' },
    ),
    poolRef: PoolRef,
    address: s.string({ description: 'The IP4 or IP6 address.' }),
    prefix: s.int32({ description: 'Prefix length of the address’s network.' }),
    gateway: s.optional(s.string({ description: 'Default gateway of the network.' })),
  },
  { description: 'An address given to a claim.' },
);

export const IPPoolSpec = s.object(
  {
    addresses: s.array(s.string(), {
      description: 'The addresses to hand out: single addresses, ranges "first-last", or CIDR blocks.',
    }),
    prefix: s.int32({ minimum: 0, maximum: 128, description: 'Prefix length of the network the addresses are in.' }),
    gateway: s.optional(s.string({ description: 'Default gateway of that network (never handed out).' })),
  },
  { description: 'A pool of static addresses served by vmop’s IPAM provider.' },
);

export const IPPoolStatus = s.object(
  {
    total: s.optional(s.int32({ description: 'Addresses in the pool.' })),
    used: s.optional(s.int32({ description: 'Addresses handed out.' })),
  },
  { description: 'How full the pool is.' },
);
