// PersistentVolumeClaim volumes of a VM, resolved from the informer caches: claim → bound PersistentVolume →
// the vSphere CSI volume handle, which is a First Class Disk's ID. Each volume comes back either with its disk
// or with the reason it cannot be attached yet, worded for status.volumes[].error. The disks the controller
// has attached are remembered in an annotation on the VirtualMachine (volume name → disk ID), written before
// an attach and cleared after a detach, so a volume removed from the spec is detached even when its claim is
// gone, and a restart between the vSphere task and the status write neither loses nor repeats anything.
import type { Informer } from '../../runtime/informer.js';
import type { KubeObject } from '../../runtime/kube-client.js';
import { bytesQuantity, parseQuantity } from '../../api/quantity.js';
import { notAssociated, VSPHERE_CSI_DRIVER } from '../storage-classes.js';
import type { VolumeSpec } from './types.js';

export const ATTACHED_DISKS_ANNOTATION = 'vmop.dev/attached-disks';

export interface VolumeCaches {
  claims: Informer;
  volumes: Informer;
  quotas: Informer;
}

export type ResolvedVolume =
  { name: string; claim: string; diskID: string; limit?: string } | { name: string; claim: string; error: string };

/** The volume's disk, or why it has none yet. */
export function resolveVolume(namespace: string, volume: VolumeSpec, caches: VolumeCaches): ResolvedVolume {
  const claimName = volume.persistentVolumeClaim!.claimName;
  const base = { name: volume.name, claim: claimName };
  const claim = caches.claims.get(`${namespace}/${claimName}`) as
    | (KubeObject & { spec?: { storageClassName?: string; volumeName?: string }; status?: { phase?: string } })
    | undefined;
  if (!claim) return { ...base, error: `PersistentVolumeClaim "${claimName}" not found in namespace ${namespace}` };
  const storageClass = claim.spec?.storageClassName;
  if (storageClass) {
    const refused = notAssociated(caches.quotas.list(), namespace, storageClass);
    if (refused) return { ...base, error: `PersistentVolumeClaim "${claimName}": ${refused}` };
  }
  const volumeName = claim.spec?.volumeName;
  if (!volumeName || claim.status?.phase !== 'Bound') {
    return {
      ...base,
      error: `PersistentVolumeClaim "${claimName}" is not bound to a volume yet (phase ${claim.status?.phase ?? 'Pending'})`,
    };
  }
  const pv = caches.volumes.get(volumeName) as
    | (KubeObject & { spec?: { csi?: { driver?: string; volumeHandle?: string }; capacity?: { storage?: string } } })
    | undefined;
  if (!pv) return { ...base, error: `PersistentVolume "${volumeName}" of claim "${claimName}" not found` };
  const csi = pv.spec?.csi;
  if (csi?.driver !== VSPHERE_CSI_DRIVER || !csi.volumeHandle) {
    return {
      ...base,
      error: `PersistentVolume "${volumeName}" of claim "${claimName}" is not a vSphere volume (CSI driver ${VSPHERE_CSI_DRIVER}); only those can be attached to a VM`,
    };
  }
  const capacity = pv.spec?.capacity?.storage;
  const bytes = capacity !== undefined ? parseQuantity(capacity) : undefined;
  return { ...base, diskID: csi.volumeHandle, ...(bytes ? { limit: bytesQuantity(bytes) } : {}) };
}

/** The annotation's record of attached disks (volume name → disk ID); a damaged value counts as empty. */
export function recordedDisks(annotations: Record<string, string> | undefined): Record<string, string> {
  const raw = annotations?.[ATTACHED_DISKS_ANNOTATION];
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as Record<
      string,
      string
    >;
  } catch {
    return {};
  }
}
