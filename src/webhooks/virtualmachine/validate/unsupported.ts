// Fields of the API (in any served version) that vmop does not implement yet: refused when a create sets them or
// an update changes them, with a message that says so, never stored and ignored. (An object stored with one
// before this rule keeps it through updates that leave it alone.) Paths are the hub's; the handler names them
// as the request's version does.
import { sameJSON } from '../../../api/json.js';
import { isPlainObject, type FieldError } from '../../../api/schema.js';
import type { VirtualMachine } from '../../../api/v1alpha6/virtualmachine.js';
import type { VMValidationContext } from './context.js';

type Spec = NonNullable<VirtualMachine['spec']>;

/** Each unsupported field: where it is, how to read it from a spec, and what it would do. */
const UNSUPPORTED: { field: string; read: (spec: Spec) => unknown; what: string }[] = [
  { field: 'spec.crypto', read: (s) => s.crypto, what: 'VM encryption' },
  {
    field: 'spec.advanced.defaultVolumeProvisioningMode',
    read: (s) => s.advanced?.defaultVolumeProvisioningMode,
    what: 'a provisioning mode for the VM’s volumes',
  },
  {
    field: 'spec.advanced.changeBlockTracking',
    read: (s) => s.advanced?.changeBlockTracking,
    what: 'changed block tracking',
  },
  {
    field: 'spec.reserved.resourcePolicyName',
    read: (s) => s.reserved?.resourcePolicyName,
    what: 'VirtualMachineSetResourcePolicies',
  },
  { field: 'spec.affinity', read: (s) => s.affinity, what: 'VM affinity' },
  { field: 'spec.groupName', read: (s) => s.groupName, what: 'VirtualMachineGroups' },
  // Newer than v1alpha3:
  { field: 'spec.class', read: (s) => s.class, what: 'VirtualMachineClassInstances' },
  { field: 'spec.bootOptions', read: (s) => s.bootOptions, what: 'boot options' },
  { field: 'spec.currentSnapshotName', read: (s) => s.currentSnapshotName, what: 'snapshots' },
  { field: 'spec.policies', read: (s) => s.policies, what: 'compute policies' },
  {
    field: 'spec.volumeAttributesClassName',
    read: (s) => s.volumeAttributesClassName,
    what: 'VolumeAttributesClasses',
  },
  { field: 'spec.resources', read: (s) => s.resources, what: 'per-VM CPU and memory sizes' },
  { field: 'spec.cpuAdvanced', read: (s) => s.cpuAdvanced, what: 'advanced CPU options' },
  { field: 'spec.memoryAdvanced', read: (s) => s.memoryAdvanced, what: 'advanced memory options' },
  { field: 'spec.hardware.ideControllers', read: (s) => s.hardware?.ideControllers, what: 'disk controllers' },
  { field: 'spec.hardware.nvmeControllers', read: (s) => s.hardware?.nvmeControllers, what: 'disk controllers' },
  { field: 'spec.hardware.sataControllers', read: (s) => s.hardware?.sataControllers, what: 'disk controllers' },
  { field: 'spec.hardware.scsiControllers', read: (s) => s.hardware?.scsiControllers, what: 'disk controllers' },
  { field: 'spec.network.vlans', read: (s) => s.network?.vlans, what: 'VLAN devices' },
  { field: 'spec.bootstrap.disabled', read: (s) => s.bootstrap?.disabled, what: 'bootstrap.disabled' },
  {
    field: 'spec.bootstrap.cloudInit.waitOnNetwork4',
    read: (s) => s.bootstrap?.cloudInit?.waitOnNetwork4,
    what: 'waiting on the network',
  },
  {
    field: 'spec.bootstrap.cloudInit.waitOnNetwork6',
    read: (s) => s.bootstrap?.cloudInit?.waitOnNetwork6,
    what: 'waiting on the network',
  },
  {
    field: 'spec.bootstrap.linuxPrep.customizeAtNextPowerOn',
    read: (s) => s.bootstrap?.linuxPrep?.customizeAtNextPowerOn,
    what: 'customizing again at the next power-on',
  },
  {
    field: 'spec.bootstrap.sysprep.customizeAtNextPowerOn',
    read: (s) => s.bootstrap?.sysprep?.customizeAtNextPowerOn,
    what: 'customizing again at the next power-on',
  },
  ...(
    [
      'preferHtEnabled',
      'hugePages1GEnabled',
      'timeTrackerLowLatencyEnabled',
      'cpuAffinityExclusiveNoStatsEnabled',
      'vmxSwapEnabled',
      'pnumaNodeAffinity',
      'extraConfig',
    ] as const
  ).map((k) => ({ field: `spec.advanced.${k}`, read: (s: Spec) => s.advanced?.[k], what: `advanced.${k}` })),
];

/**
 * Fields of list items (matched to the old spec's by the item's name): volumes, interfaces and CD-ROMs placed or
 * tuned beyond vmop. Keys are dotted paths in the item; `what` names a key's feature when its name does not;
 * `accept` is a value of a key that asks for what vmop does anyway (the API's default).
 */
const ITEM_FIELDS: {
  list: string;
  read: (spec: Spec) => readonly Record<string, unknown>[] | undefined;
  keys: string[];
  what?: Record<string, string>;
  accept?: Record<string, unknown>;
}[] = [
  {
    list: 'spec.volumes',
    read: (s) => s.volumes,
    what: {
      'persistentVolumeClaim.instanceVolumeClaim': 'instance storage volumes',
      removable: 'volumes that may not be removed while the VM runs',
    },
    // Volumes are attached and detached while the VM runs: removable, as v1alpha5 defaults it.
    accept: { removable: true },
    keys: [
      'persistentVolumeClaim.instanceVolumeClaim',
      'removable',
      'applicationType',
      'controllerBusNumber',
      'controllerType',
      'diskMode',
      'sharingMode',
      'unitNumber',
    ],
  },
  {
    list: 'spec.network.interfaces',
    read: (s) => s.network?.interfaces,
    keys: ['macAddr', 'type', 'vnumaNodeID', 'vmxnet3', 'advancedProperties', 'ipamModes'],
  },
  {
    list: 'spec.hardware.cdrom',
    read: (s) => s.hardware?.cdrom,
    keys: ['controllerBusNumber', 'controllerType', 'unitNumber'],
  },
];

export function validateUnsupported(ctx: VMValidationContext): FieldError[] {
  const spec = ctx.vm.spec ?? {};
  const old = ctx.old?.spec ?? {};
  const errors: FieldError[] = [];
  const refuse = (field: string, what: string) =>
    errors.push({
      field,
      type: 'Forbidden',
      detail: `vmop does not support ${what} yet, so this field would be ignored; remove it`,
    });
  for (const u of UNSUPPORTED) {
    const value = u.read(spec);
    if (value !== undefined && !sameJSON(value, u.read(old))) refuse(u.field, u.what);
  }
  for (const { list, read, keys, what, accept } of ITEM_FIELDS) {
    const before = new Map((read(old) ?? []).map((item) => [item.name, item]));
    for (const [i, item] of (read(spec) ?? []).entries()) {
      for (const k of keys) {
        const value = at(item, k);
        if (accept && Object.hasOwn(accept, k) && sameJSON(value, accept[k])) continue;
        if (value !== undefined && !sameJSON(value, at(before.get(item.name), k))) {
          refuse(`${list}[${i}].${k}`, what?.[k] ?? `${list.split('.').pop() ?? list} ${k}`);
        }
      }
    }
  }
  return errors;
}

/** The value at a dotted path in an item, if there is one. */
function at(item: unknown, path: string): unknown {
  let cur = item;
  for (const key of path.split('.')) cur = isPlainObject(cur) ? cur[key] : undefined;
  return cur;
}
