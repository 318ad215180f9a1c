// The objects a VM is built from — its VirtualMachineClass, its image (namespaced VirtualMachineImage first,
// then ClusterVirtualMachineImage) and its StorageClass — looked up in the informer caches. Each comes back
// either resolved or as the condition that explains what is missing, for the VM's status.
import { parseQuantity } from '../../api/quantity.js';
import type { ClassDevices, ResourcePolicy } from '../../providers/interface.js';
import type { Informer } from '../../runtime/informer.js';
import type { KubeObject } from '../../runtime/kube-client.js';
import { conditionFalse, conditionTrue, type ConditionUpdate } from '../../runtime/status.js';
import { notAssociated, storagePolicyID } from '../storage-classes.js';
import type { VM } from './types.js';

export const CONDITIONS = {
  classReady: 'VirtualMachineClassReady',
  imageReady: 'VirtualMachineImageReady',
  storageReady: 'VirtualMachineStorageReady',
  created: 'VirtualMachineCreated',
  guestID: 'GuestIDReconfigured',
  ready: 'Ready',
} as const;

export interface ResolvedClass {
  name: string;
  cpus?: number;
  memoryMiB?: number;
  configSpec?: Record<string, unknown>;
  /** spec.policies.resources: CPU in vCPUs, memory in bytes. */
  resources?: ResourcePolicy;
  /** spec.hardware.devices. */
  devices?: ClassDevices;
}

export interface ResolvedImage {
  kind: 'VirtualMachineImage' | 'ClusterVirtualMachineImage';
  name: string;
  itemID: string;
}

export interface ResolvedStorage {
  name: string;
  storagePolicyID?: string;
}

export interface Resolved {
  cls?: ResolvedClass;
  image?: ResolvedImage;
  storage?: ResolvedStorage;
  conditions: ConditionUpdate[];
}

export interface DependencyCaches {
  classes: Informer;
  images: Informer;
  clusterImages: Informer;
  storageClasses: Informer;
  quotas: Informer;
}

/** The ResourceQuota resource name that associates a StorageClass with a namespace (as VM Operator reads it). */

function readyCondition(obj: KubeObject): { status?: string; message?: string } | undefined {
  const conditions = (obj.status as { conditions?: { type: string; status: string; message?: string }[] } | undefined)
    ?.conditions;
  return conditions?.find((c) => c.type === 'Ready');
}

function resolveClass(vm: VM, c: DependencyCaches): ResolvedClass | ConditionUpdate {
  const ns = vm.metadata.namespace!;
  const name = vm.spec?.className;
  if (!name) return conditionFalse(CONDITIONS.classReady, 'NotFound', 'spec.className is empty');
  const cls = c.classes.get(`${ns}/${name}`);
  if (!cls) {
    return conditionFalse(
      CONDITIONS.classReady,
      'NotFound',
      `VirtualMachineClass "${name}" does not exist in namespace ${ns}; list the classes with kubectl get vmclass -n ${ns}`,
    );
  }
  const spec = (cls.spec ?? {}) as {
    hardware?: {
      cpus?: number;
      memory?: string | number;
      devices?: {
        vgpuDevices?: { profileName: string }[];
        dynamicDirectPathIODevices?: { vendorID: number; deviceID: number; customLabel?: string }[];
      };
    };
    configSpec?: unknown;
    policies?: {
      resources?: Record<'requests' | 'limits', { cpu?: string | number; memory?: string | number } | undefined>;
    };
  };
  const devices: ClassDevices = {
    vgpuProfiles: (spec.hardware?.devices?.vgpuDevices ?? []).map((d) => d.profileName),
    directPath: spec.hardware?.devices?.dynamicDirectPathIODevices ?? [],
  };
  const res = spec.policies?.resources;
  const q = (v: string | number | undefined) => (v === undefined ? undefined : parseQuantity(v));
  const resources = {
    ...(q(res?.requests?.cpu) !== undefined ? { cpuRequest: q(res?.requests?.cpu) } : {}),
    ...(q(res?.limits?.cpu) !== undefined ? { cpuLimit: q(res?.limits?.cpu) } : {}),
    ...(q(res?.requests?.memory) !== undefined ? { memoryRequestBytes: q(res?.requests?.memory) } : {}),
    ...(q(res?.limits?.memory) !== undefined ? { memoryLimitBytes: q(res?.limits?.memory) } : {}),
  };
  const memoryBytes = spec.hardware?.memory !== undefined ? parseQuantity(spec.hardware.memory) : undefined;
  const configSpec =
    typeof spec.configSpec === 'object' && spec.configSpec !== null && !Array.isArray(spec.configSpec)
      ? (spec.configSpec as Record<string, unknown>)
      : undefined;
  return {
    name,
    cpus: spec.hardware?.cpus,
    memoryMiB: memoryBytes !== undefined ? Math.ceil(memoryBytes / (1024 * 1024)) : undefined,
    configSpec,
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    ...(devices.vgpuProfiles.length + devices.directPath.length > 0 ? { devices } : {}),
  };
}

function resolveImage(vm: VM, c: DependencyCaches): ResolvedImage | ConditionUpdate {
  const ns = vm.metadata.namespace!;
  const ref = vm.spec?.image;
  const name = ref?.name || vm.spec?.imageName;
  if (!name)
    return conditionFalse(CONDITIONS.imageReady, 'NotFound', 'neither spec.image nor spec.imageName names an image');
  const candidates: [ResolvedImage['kind'], KubeObject | undefined][] = [];
  if (!ref?.kind || ref.kind === 'VirtualMachineImage')
    candidates.push(['VirtualMachineImage', c.images.get(`${ns}/${name}`)]);
  if (!ref?.kind || ref.kind === 'ClusterVirtualMachineImage')
    candidates.push(['ClusterVirtualMachineImage', c.clusterImages.get(name)]);
  const found = candidates.find(([, obj]) => obj);
  if (!found) {
    return conditionFalse(
      CONDITIONS.imageReady,
      'NotFound',
      `no VirtualMachineImage "${name}" in namespace ${ns} and no ClusterVirtualMachineImage "${name}"; list them with kubectl get vmi,cvmi -n ${ns}`,
    );
  }
  const [kind, obj] = found as [ResolvedImage['kind'], KubeObject];
  const ready = readyCondition(obj);
  const itemID = (obj.status as { providerItemID?: string } | undefined)?.providerItemID;
  if (ready?.status !== 'True' || !itemID) {
    return conditionFalse(
      CONDITIONS.imageReady,
      'NotReady',
      `${kind} "${name}" is not ready${ready?.message ? `: ${ready.message}` : ''}`,
    );
  }
  return { kind, name, itemID };
}

function resolveStorage(vm: VM, c: DependencyCaches): ResolvedStorage | ConditionUpdate {
  const ns = vm.metadata.namespace!;
  const name = vm.spec?.storageClass;
  if (!name) return conditionFalse(CONDITIONS.storageReady, 'NotFound', 'spec.storageClass is empty');
  const sc = c.storageClasses.get(name);
  if (!sc) {
    return conditionFalse(
      CONDITIONS.storageReady,
      'NotFound',
      `StorageClass "${name}" does not exist; list them with kubectl get storageclass`,
    );
  }
  const refused = notAssociated(c.quotas.list(), ns, name);
  if (refused) return conditionFalse(CONDITIONS.storageReady, 'NotAssociated', refused);
  return { name, storagePolicyID: storagePolicyID(sc) };
}

/** Resolves the class, image and storage class of a VM; `conditions` has one entry for each of the three. */
export function resolveDependencies(vm: VM, caches: DependencyCaches): Resolved {
  const out: Resolved = { conditions: [] };
  const cls = resolveClass(vm, caches);
  if ('type' in cls) out.conditions.push(cls);
  else {
    out.cls = cls;
    out.conditions.push(conditionTrue(CONDITIONS.classReady));
  }
  const image = resolveImage(vm, caches);
  if ('type' in image) out.conditions.push(image);
  else {
    out.image = image;
    out.conditions.push(conditionTrue(CONDITIONS.imageReady));
  }
  const storage = resolveStorage(vm, caches);
  if ('type' in storage) out.conditions.push(storage);
  else {
    out.storage = storage;
    out.conditions.push(conditionTrue(CONDITIONS.storageReady));
  }
  return out;
}
