// What the VM controller watches and how an event finds the VMs it concerns: the informers it takes from
// the manager's shared cache, their indexes, the controller's watch sources (a dependency that appears wakes
// the VMs waiting for it, a claim or volume wakes the VMs that name it), and the map from vSphere's IDs back
// to keys for the provider's change feed.
import { API_VERSION } from '../../api/v1alpha6/common.js';
import { CAPI_IPAM_API_VERSION } from '../../api/vmop/ipam.js';
import { NETWORK_API_VERSION } from '../../api/vmop/network.js';
import type { SharedCache } from '../../runtime/cache.js';
import type { WatchSource } from '../../runtime/controller.js';
import { objectKey, type Informer } from '../../runtime/informer.js';
import type { KubeObject } from '../../runtime/kube-client.js';
import { CLAIM_VM_LABEL, CLAIMS_BY_VM } from './addresses.js';
import type { DependencyCaches } from './dependencies.js';
import { NETWORK_CONFIGMAP } from './network-config.js';
import type { VM } from './types.js';
import type { VolumeCaches } from './volumes.js';

/** Index names on the shared informers (unique per process, so prefixed). */
const VMS_BY_CLAIM = 'virtualmachine.claim';
const WAITING_VMS = 'virtualmachine.waiting';

const vmOfClaim = (c: KubeObject) => (c.metadata.labels as Record<string, string> | undefined)?.[CLAIM_VM_LABEL];

export class VMWatches {
  readonly vms: Informer<VM>;
  readonly caches: DependencyCaches;
  readonly volumeCaches: VolumeCaches;
  /** vmop.dev Network objects, all namespaces. */
  readonly networks: Informer;
  /** ConfigMap vmop-network-config (global DNS and the default network's DHCP modes). */
  readonly networkConfig: Informer;
  /** Cluster API IPAM claims (those of VM interfaces) and addresses, all namespaces. */
  readonly claims: Informer;
  readonly ipAddresses: Informer;
  private readonly byInstanceUUID = new Map<string, string>();
  private readonly byUniqueID = new Map<string, string>();

  constructor(
    cache: SharedCache,
    private readonly opts: { resyncMs?: number; vmSelector?: string; namespace: string },
  ) {
    const informer = (apiVersion: string, kind: string) =>
      cache.informer({ apiVersion, kind, resyncMs: opts.resyncMs });
    this.vms = cache.informer<VM>({
      apiVersion: API_VERSION,
      kind: 'VirtualMachine',
      resyncMs: opts.resyncMs,
      labelSelector: opts.vmSelector || undefined,
    });
    // VMs by the claims their volumes name ("namespace/claim"), and the VMs not created yet by namespace.
    this.vms.addIndex(VMS_BY_CLAIM, (vm) =>
      (vm.spec?.volumes ?? []).flatMap((v) =>
        v.persistentVolumeClaim?.claimName ? [`${vm.metadata.namespace}/${v.persistentVolumeClaim.claimName}`] : [],
      ),
    );
    this.vms.addIndex(WAITING_VMS, (vm) => (vm.status?.uniqueID ? [] : ['', vm.metadata.namespace ?? '']));
    this.caches = {
      classes: informer(API_VERSION, 'VirtualMachineClass'),
      images: informer(API_VERSION, 'VirtualMachineImage'),
      clusterImages: informer(API_VERSION, 'ClusterVirtualMachineImage'),
      storageClasses: cache.informer({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass' }),
      quotas: cache.informer({ apiVersion: 'v1', kind: 'ResourceQuota' }),
    };
    this.networks = cache.informer({ apiVersion: NETWORK_API_VERSION, kind: 'Network' });
    // The Cluster API IPAM contract's CRDs are optional: without them no interface can name an IP pool, and
    // every other VM is reconciled as usual. (All claims, shared with the IPAM provider; those of VMs by index.)
    this.claims = cache.informer({ apiVersion: CAPI_IPAM_API_VERSION, kind: 'IPAddressClaim', optional: true });
    this.claims.addIndex(CLAIMS_BY_VM, (c) => {
      const vm = vmOfClaim(c);
      return vm ? [`${c.metadata.namespace}/${vm}`] : [];
    });
    this.ipAddresses = cache.informer({ apiVersion: CAPI_IPAM_API_VERSION, kind: 'IPAddress', optional: true });
    this.networkConfig = cache.informer({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: opts.namespace,
      fieldSelector: `metadata.name=${NETWORK_CONFIGMAP}`,
    });
    this.volumeCaches = {
      claims: cache.informer({ apiVersion: 'v1', kind: 'PersistentVolumeClaim' }),
      volumes: cache.informer({ apiVersion: 'v1', kind: 'PersistentVolume' }),
      quotas: this.caches.quotas,
    };
    // vSphere reports changes by managed object ID (status.uniqueID) and instance UUID; either leads back to
    // the key (the ID also when vcsim reports an instance UUID that a deploy's reconfigure has replaced).
    this.vms.on((event, vm, old) => {
      const uuid = vm.spec?.instanceUUID?.toLowerCase();
      const id = vm.status?.uniqueID;
      const oldID = old?.status?.uniqueID;
      if (oldID && oldID !== id) this.byUniqueID.delete(oldID);
      if (event === 'delete') {
        if (uuid) this.byInstanceUUID.delete(uuid);
        if (id) this.byUniqueID.delete(id);
        return;
      }
      if (uuid) this.byInstanceUUID.set(uuid, objectKey(vm));
      if (id) this.byUniqueID.set(id, objectKey(vm));
    });
  }

  /** The key of the VM a vSphere change is about, if it is one of ours. */
  keyOf(change: { id: string; instanceUUID?: string }): string | undefined {
    return (
      this.byUniqueID.get(change.id) ??
      (change.instanceUUID ? this.byInstanceUUID.get(change.instanceUUID.toLowerCase()) : undefined)
    );
  }

  /** The instance UUIDs of every VM object this controller knows (for the orphan sweep). */
  instanceUUIDs(): Set<string> {
    return new Set(this.byInstanceUUID.keys());
  }

  /** The network defaults ConfigMap, if there is one. */
  networkDefaultsObject(): ReturnType<Informer['get']> {
    return this.networkConfig.get(`${this.opts.namespace}/${NETWORK_CONFIGMAP}`);
  }

  /** The controller's watch sources: which VM keys each event wakes. */
  sources(): WatchSource[] {
    // A dependency that appears or changes wakes the VMs of its namespace (all namespaces for cluster-scoped
    // ones) that are still waiting to be created.
    const waiting = (namespace?: string) => this.vms.byIndex(WAITING_VMS, namespace ?? '').map(objectKey);
    const dependency = (informer: Informer, namespaced: boolean): WatchSource => ({
      informer,
      keys: (obj) => waiting(namespaced ? obj.metadata.namespace : undefined),
    });
    // A claim that changes (bound, deleted) or a volume that changes wakes the VMs that name the claim.
    const claiming = (namespace: string | undefined, claim: string | undefined) =>
      this.vms.byIndex(VMS_BY_CLAIM, `${namespace}/${claim}`).map(objectKey);
    return [
      { informer: this.vms as unknown as Informer },
      dependency(this.caches.classes, true),
      dependency(this.caches.images, true),
      dependency(this.caches.clusterImages, false),
      dependency(this.caches.storageClasses, false),
      dependency(this.caches.quotas, true),
      dependency(this.networks, true),
      // A claim answered (or refused), or its address, wakes the VM it belongs to.
      {
        informer: this.claims,
        keys: (c) => {
          const vm = vmOfClaim(c);
          return vm ? [`${c.metadata.namespace}/${vm}`] : [];
        },
      },
      {
        informer: this.ipAddresses,
        keys: (a) => {
          const claim = this.claims.get(
            `${a.metadata.namespace}/${(a.spec as { claimRef?: { name?: string } } | undefined)?.claimRef?.name}`,
          );
          const vm = claim && vmOfClaim(claim);
          return vm ? [`${a.metadata.namespace}/${vm}`] : [];
        },
      },
      { informer: this.volumeCaches.claims, keys: (pvc) => claiming(pvc.metadata.namespace, pvc.metadata.name) },
      // The network defaults feed every VM's status.network.config.
      { informer: this.networkConfig, keys: () => this.vms.list().map(objectKey) },
      {
        informer: this.volumeCaches.volumes,
        keys: (pv) => {
          const ref = (pv.spec as { claimRef?: { namespace?: string; name?: string } } | undefined)?.claimRef;
          return ref ? claiming(ref.namespace, ref.name) : [];
        },
      },
    ];
  }
}
