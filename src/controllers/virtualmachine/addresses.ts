// Static addresses of a VM's interfaces through the Cluster API IPAM contract: one IPAddressClaim per interface
// whose Network has an IP pool (owned by the VM, labelled with its name), and what the pool's provider answered
// (the IPAddress), read from the controller's caches.
import { API_VERSION } from '../../api/v1alpha6/common.js';
import { CAPI_IPAM_API_VERSION } from '../../api/vmop/ipam.js';
import type { Informer } from '../../runtime/informer.js';
import { KubeAPIError, type KubeClient, type KubeObject } from '../../runtime/kube-client.js';
import { deployedNetwork, interfacesOf, type IPAMResult } from './network-config.js';
import type { InterfaceNetwork } from './networks.js';
import type { VM } from './types.js';
import { apiPath } from '../../runtime/api-path.js';

/** Marks the IPAddressClaims a VM's interfaces make (value: the VM's name). */
export const CLAIM_VM_LABEL = 'vmop.dev/virtualmachine';
/** Index of the shared claims informer: the claims of a VM ("namespace/vm"), by CLAIM_VM_LABEL. */
export const CLAIMS_BY_VM = 'virtualmachine.vm';

export class InterfaceAddresses {
  constructor(
    private readonly client: KubeClient,
    private readonly claims: Informer,
    private readonly ipAddresses: Informer,
  ) {}

  /** The IPAddressClaim of one interface of a VM. */
  private claimName(vm: VM, iface: string): string {
    return `${vm.metadata.name}-${iface}`;
  }

  /** What IPAM gave each interface whose Network has a pool (from the caches). */
  addressesOf(vm: VM, nets: InterfaceNetwork[]): (IPAMResult | undefined)[] {
    const ns = vm.metadata.namespace!;
    return interfacesOf(deployedNetwork(vm)).map((iface, n) => {
      if (!nets[n]?.pool) return undefined;
      const claim = this.claims.get(`${ns}/${this.claimName(vm, iface.name)}`) as
        (KubeObject & { status?: { addressRef?: { name?: string } } }) | undefined;
      const ref = claim?.status?.addressRef?.name;
      const address = ref
        ? (this.ipAddresses.get(`${ns}/${ref}`) as
            (KubeObject & { spec: { address: string; prefix: number; gateway?: string } }) | undefined)
        : undefined;
      if (!address) return undefined;
      const v6 = address.spec.address.includes(':');
      return {
        addresses: [`${address.spec.address}/${address.spec.prefix}`],
        ...(address.spec.gateway ? (v6 ? { gateway6: address.spec.gateway } : { gateway4: address.spec.gateway }) : {}),
      };
    });
  }

  /**
   * Makes sure every interface whose Network has an IP pool has its IPAddressClaim (owned by the VM, so it
   * goes with it), and says which are still waiting for an address and why.
   */
  async claimAddresses(vm: VM, nets: InterfaceNetwork[]): Promise<{ pending?: { reason: string; message: string } }> {
    const ns = vm.metadata.namespace!;
    const waiting: { reason: string; message: string }[] = [];
    // What the caches already hold (a claim created below is answered in a later round).
    const given = this.addressesOf(vm, nets);
    for (const [n, iface] of interfacesOf(deployedNetwork(vm)).entries()) {
      const pool = nets[n]?.pool;
      if (!pool) continue;
      const name = this.claimName(vm, iface.name);
      let claim = this.claims.get(`${ns}/${name}`) as
        | (KubeObject & {
            status?: {
              addressRef?: { name?: string };
              conditions?: { type: string; status: string; reason?: string; message?: string }[];
            };
          })
        | undefined;
      if (!claim) {
        try {
          claim = await this.client.create({
            apiVersion: CAPI_IPAM_API_VERSION,
            kind: 'IPAddressClaim',
            metadata: {
              name,
              namespace: ns,
              labels: { [CLAIM_VM_LABEL]: vm.metadata.name! },
              ownerReferences: [
                {
                  apiVersion: API_VERSION,
                  kind: 'VirtualMachine',
                  name: vm.metadata.name,
                  uid: vm.metadata.uid,
                  blockOwnerDeletion: true,
                },
              ],
            },
            spec: { poolRef: pool },
          });
        } catch (err) {
          if (!(err instanceof KubeAPIError && err.statusCode === 409)) throw err;
        }
      }
      if (given[n]) continue;
      const ready = claim?.status?.conditions?.find((c) => c.type === 'Ready');
      waiting.push(
        ready?.status === 'False'
          ? {
              reason: ready.reason ?? 'WaitingForIPAddress',
              message: `interface ${iface.name}: ${ready.message ?? ''}`,
            }
          : {
              reason: 'WaitingForIPAddress',
              message: `interface ${iface.name}: waiting for an address from ${pool.kind} "${pool.name}" (IPAddressClaim ${name})`,
            },
      );
    }
    if (waiting.length === 0) return {};
    return { pending: { reason: waiting[0]!.reason, message: waiting.map((w) => w.message).join('; ') } };
  }

  /** Deletes the VM's claims, which gives their addresses back to their pools. */
  async release(vm: VM): Promise<void> {
    for (const claim of this.claims.byIndex(CLAIMS_BY_VM, `${vm.metadata.namespace}/${vm.metadata.name}`)) {
      await this.client.deleteIfPresent(
        apiPath({
          apiVersion: CAPI_IPAM_API_VERSION,
          resource: 'ipaddressclaims',
          namespace: claim.metadata.namespace,
          name: String(claim.metadata.name),
        }),
      );
    }
  }
}
