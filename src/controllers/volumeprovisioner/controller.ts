// A dynamic provisioner for vSphere StorageClasses (provisioner csi.vsphere.vmware.com) for where the vSphere
// CSI driver does not run: the local environment. It follows the external-provisioner contract, so the
// cluster's own PersistentVolume controller (kube-controller-manager) does the binding:
// - a claim of such a class with no volume gets a First Class Disk of its size on a datastore its storage
//   policy allows, and a PersistentVolume `pvc-<claim UID>` pre-bound to it (spec.csi.volumeHandle = disk ID);
// - a Released volume whose reclaim policy is Delete loses its disk, then the volume object; a volume deleted
//   by hand keeps a finalizer until its disk is gone.
// A claim whose class is not associated with its namespace (VM Operator's ResourceQuota rule) is refused with
// a Warning Event on the claim. In a real cluster the vSphere CSI driver does all this and this stays off.
import { parseQuantity } from '../../api/quantity.js';
import type { DiskProvider } from '../../providers/interface.js';
import { Controller } from '../../runtime/controller.js';
import type { EventRecorder } from '../../runtime/events.js';
import { SharedCache } from '../../runtime/cache.js';
import { parseRefKey, refKey } from '../../runtime/object-ref.js';
import { finalized } from '../../runtime/finalizer.js';
import { Informer } from '../../runtime/informer.js';
import { KubeAPIError, type KubeClient, type KubeObject } from '../../runtime/kube-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { Runnable } from '../../runtime/manager.js';
import type { Registry } from 'prom-client';
import { notAssociated, storagePolicyID, VSPHERE_CSI_DRIVER } from '../storage-classes.js';
import { apiPath } from '../../runtime/api-path.js';

const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
/** The external-provisioner's finalizer: the PersistentVolume object outlives its disk. */
export const PV_FINALIZER = 'external-provisioner.volume.kubernetes.io/finalizer';

export interface PVC extends KubeObject {
  spec?: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    volumeMode?: string;
    resources?: { requests?: { storage?: string } };
  };
  status?: { phase?: string };
}

export interface PV extends KubeObject {
  metadata: KubeObject['metadata'] & {
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec?: {
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
    claimRef?: { namespace?: string; name?: string; uid?: string };
    csi?: { driver?: string; volumeHandle?: string };
  };
  status?: { phase?: string };
}

export interface VolumeProvisionerOptions {
  client: KubeClient;
  disks: DiskProvider;
  events: EventRecorder;
  logger: Logger;
  registry?: Registry;
  /** The manager's shared cache (one informer per kind per process); a private one when omitted. */
  cache?: SharedCache;
}

const KINDS = ['PersistentVolumeClaim', 'PersistentVolume'] as const;
const claimKey = (c: PVC) =>
  refKey({ kind: 'PersistentVolumeClaim', namespace: c.metadata.namespace, name: String(c.metadata.name) });
const volumeKey = (v: PV) => refKey({ kind: 'PersistentVolume', name: String(v.metadata.name) });

export class VolumeProvisioner implements Runnable {
  readonly name = 'volumeprovisioner';
  private readonly claims: Informer<PVC>;
  private readonly volumes: Informer<PV>;
  private readonly classes: Informer;
  private readonly quotas: Informer;
  private readonly controller: Controller;

  constructor(private readonly opts: VolumeProvisionerOptions) {
    const { client, logger } = opts;
    const cache = opts.cache ?? new SharedCache(client, logger);
    this.claims = cache.informer<PVC>({ apiVersion: 'v1', kind: 'PersistentVolumeClaim' });
    this.volumes = cache.informer<PV>({ apiVersion: 'v1', kind: 'PersistentVolume' });
    this.classes = cache.informer({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass' });
    this.quotas = cache.informer({ apiVersion: 'v1', kind: 'ResourceQuota' });
    const claimsOf = (namespace?: string) =>
      this.claims
        .list()
        .filter((c) => !c.spec?.volumeName && (!namespace || c.metadata.namespace === namespace))
        .map(claimKey);
    this.controller = new Controller({
      name: this.name,
      reconciler: { reconcile: (key) => this.reconcile(key) },
      sources: [
        { informer: this.claims as unknown as Informer, keys: (c) => [claimKey(c as PVC)] },
        { informer: this.volumes as unknown as Informer, keys: (v) => [volumeKey(v as PV)] },
        // A class or an association that appears may let waiting claims go ahead.
        { informer: this.classes, keys: () => claimsOf() },
        { informer: this.quotas, keys: (q) => claimsOf(q.metadata.namespace) },
      ],
      concurrency: 4,
      logger,
      registry: opts.registry,
    });
  }

  health(): string | undefined {
    return this.controller.health();
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.controller.start(signal);
  }

  private reconcile(key: string): Promise<void> {
    const ref = parseRefKey(key, KINDS);
    return ref.kind === 'PersistentVolumeClaim' ? this.provision(ref.key) : this.reclaim(ref.key);
  }

  /** The class of a claim, when it is one this provisioner serves. */
  private vsphereClass(claim: PVC): KubeObject | undefined {
    const name = claim.spec?.storageClassName;
    const sc = name ? this.classes.get(name) : undefined;
    return (sc as { provisioner?: string } | undefined)?.provisioner === VSPHERE_CSI_DRIVER ? sc : undefined;
  }

  private async provision(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (!claim || claim.metadata.deletionTimestamp || claim.spec?.volumeName) return;
    const sc = this.vsphereClass(claim);
    if (!sc) return;
    const ns = claim.metadata.namespace!;
    const className = sc.metadata.name!;
    const refused = notAssociated(this.quotas.list(), ns, className);
    if (refused) {
      void this.opts.events.record(claim, 'Warning', 'ProvisioningFailed', refused);
      return;
    }
    const pvName = `pvc-${claim.metadata.uid}`;
    if (this.volumes.get(pvName)) return; // provisioned; the PersistentVolume controller binds it
    const request = claim.spec?.resources?.requests?.storage;
    const bytes = request !== undefined ? parseQuantity(request) : undefined;
    if (!bytes || bytes <= 0) {
      void this.opts.events.record(
        claim,
        'Warning',
        'ProvisioningFailed',
        `spec.resources.requests.storage must be a positive size (got "${request ?? ''}")`,
      );
      return;
    }
    // Named after the volume, so a retry after a crash finds the disk it already made.
    const disk = await this.opts.disks.createDisk(pvName, bytes, storagePolicyID(sc));
    const reclaim = (sc as { reclaimPolicy?: string }).reclaimPolicy ?? 'Delete';
    const pv: PV = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: { [PROVISIONED_BY]: VSPHERE_CSI_DRIVER },
        ...(reclaim === 'Delete' ? { finalizers: [PV_FINALIZER] } : {}),
      },
      spec: {
        capacity: { storage: String(disk.capacityBytes) },
        accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
        volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
        persistentVolumeReclaimPolicy: reclaim,
        storageClassName: className,
        claimRef: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: ns,
          name: claim.metadata.name,
          uid: claim.metadata.uid,
        },
        csi: { driver: VSPHERE_CSI_DRIVER, volumeHandle: disk.id, fsType: 'ext4' },
      } as PV['spec'],
    };
    try {
      await this.opts.client.create(pv);
    } catch (err) {
      if (!(err instanceof KubeAPIError && err.statusCode === 409)) throw err;
    }
    this.opts.logger.info({ claim: key, volume: pvName, disk: disk.id }, 'volume provisioned');
    void this.opts.events.record(
      claim,
      'Normal',
      'ProvisioningSucceeded',
      `provisioned volume ${pvName}: First Class Disk ${disk.id} (${disk.capacityBytes} bytes)`,
    );
  }

  private async reclaim(name: string): Promise<void> {
    const pv = this.volumes.get(name);
    if (!pv || pv.metadata.annotations?.[PROVISIONED_BY] !== VSPHERE_CSI_DRIVER) return;
    if (pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const handle = pv.spec.csi?.driver === VSPHERE_CSI_DRIVER ? pv.spec.csi.volumeHandle : undefined;
    const path = apiPath({ apiVersion: 'v1', resource: 'persistentvolumes', name });
    // A volume that is deleted keeps the finalizer until its disk is gone; one that lives gets it back if it
    // lost it (the external-provisioner does the same for volumes it reclaims).
    const released = await finalized(this.opts.client, pv, PV_FINALIZER, {
      cleanup: async (obj) => {
        if (handle) await this.opts.disks.deleteDisk(handle);
        this.opts.logger.info({ volume: name, disk: handle }, 'disk of a deleted volume deleted');
        return obj;
      },
      apply: async (obj) => obj.status?.phase === 'Released',
    });
    if (!released) return;
    // The claim is gone: delete the object; the finalizer above deletes the disk first.
    await this.opts.client.deleteIfPresent(path);
  }
}
