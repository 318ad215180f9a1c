// Rules about StorageClasses that more than one controller applies: which namespaces may use a class (VM
// Operator's rule: a ResourceQuota in the namespace sets `<class>.storageclass.storage.k8s.io/requests.storage`)
// and the vSphere storage policy a class names.
import type { KubeObject } from '../runtime/kube-client.js';

/** The vSphere CSI driver: its PersistentVolumes are First Class Disks (spec.csi.volumeHandle is the disk ID). */
export const VSPHERE_CSI_DRIVER = 'csi.vsphere.vmware.com';

/** The quota resource that associates `storageClass` with a namespace. */
export function storageQuotaResource(storageClass: string): string {
  return `${storageClass}.storageclass.storage.k8s.io/requests.storage`;
}

/** Why `storageClass` may not be used in `namespace` (undefined when it may), worded for a condition. */
export function notAssociated(quotas: KubeObject[], namespace: string, storageClass: string): string | undefined {
  const resource = storageQuotaResource(storageClass);
  const associated = quotas.some(
    (q) =>
      q.metadata.namespace === namespace &&
      Object.keys((q.spec as { hard?: Record<string, unknown> } | undefined)?.hard ?? {}).includes(resource),
  );
  return associated
    ? undefined
    : `StorageClass "${storageClass}" is not associated with namespace ${namespace}: no ResourceQuota there sets "${resource}"; ask an administrator to add one`;
}

/** The class's `storagePolicyID` parameter (any case), the vSphere storage policy it stands for. */
export function storagePolicyID(storageClass: KubeObject): string | undefined {
  const params = (storageClass as { parameters?: Record<string, string> }).parameters ?? {};
  return Object.entries(params).find(([k]) => k.toLowerCase() === 'storagepolicyid')?.[1] || undefined;
}
