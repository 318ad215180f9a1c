// VirtualMachineClass rules: at least one CPU, a positive memory size, a configSpec that is a vim25
// VirtualMachineConfigSpec object, and reservations that do not exceed limits, in the configSpec
// allocations (CPU in MHz, memory in MB; a limit of -1 means unlimited) and in policies.resources
// (Kubernetes quantities: CPU in cores, memory in bytes).
import { isPlainObject, validate, type FieldError } from '../../api/schema.js';
import { parseQuantity } from '../../api/quantity.js';
import { VirtualMachineClassSpec } from '../../api/v1alpha3/virtualmachineclass.js';

function allocationErrors(configSpec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const pairs: [string, string][] = [
    ['cpuAllocation', 'MHz'],
    ['memoryAllocation', 'MB'],
  ];
  for (const [key, unit] of pairs) {
    const alloc = configSpec[key];
    if (alloc === undefined) continue;
    const p = `spec.configSpec.${key}`;
    if (!isPlainObject(alloc)) {
      errors.push({ field: p, type: 'TypeInvalid', value: alloc, detail: 'must be a ResourceAllocationInfo object' });
      continue;
    }
    for (const f of ['reservation', 'limit']) {
      const v = alloc[f];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) {
        errors.push({
          field: `${p}.${f}`,
          type: 'TypeInvalid',
          value: v,
          detail: `must be an integer number of ${unit}`,
        });
      }
    }
    const { reservation, limit } = alloc;
    if (typeof reservation === 'number' && reservation < 0) {
      errors.push({
        field: `${p}.reservation`,
        type: 'Invalid',
        value: reservation,
        detail: `must not be negative (${unit})`,
      });
    }
    if (typeof reservation === 'number' && typeof limit === 'number' && limit !== -1 && reservation > limit) {
      errors.push({
        field: `${p}.reservation`,
        type: 'Invalid',
        value: reservation,
        detail: `reservation (${reservation} ${unit}) must not exceed limit (${limit} ${unit})`,
      });
    }
  }
  return errors;
}

export function validateVirtualMachineClass(object: unknown, oldObject?: unknown): FieldError[] {
  if (!isPlainObject(object))
    return [{ field: 'object', type: 'TypeInvalid', value: object, detail: 'must be a VirtualMachineClass object' }];
  const spec = object.spec ?? {};
  const structural = validate(VirtualMachineClassSpec, spec, 'spec');
  if (structural.length > 0) return structural;
  const s = spec as import('../../api/v1alpha3/virtualmachineclass.js').VirtualMachineClassSpec;
  const errors: FieldError[] = [];
  const hw = s.hardware;
  // Instance storage (volumes on the host's local disks, placed with the VM) is not implemented: refused when
  // set or changed, never stored and ignored. (A class stored with it before keeps it through other updates.)
  const oldSpec = (isPlainObject(oldObject) && isPlainObject(oldObject.spec) ? oldObject.spec : {}) as typeof s;
  if (
    hw?.instanceStorage !== undefined &&
    JSON.stringify(hw.instanceStorage) !== JSON.stringify(oldSpec.hardware?.instanceStorage)
  ) {
    errors.push({
      field: 'spec.hardware.instanceStorage',
      type: 'Forbidden',
      detail: 'vmop does not support instance storage yet, so this field would be ignored; remove it',
    });
  }
  // Reserved profiles (slots reserved for the class's VMs) are not implemented either.
  for (const key of ['reservedProfileID', 'reservedSlots'] as const) {
    if (s[key] !== undefined && s[key] !== oldSpec[key]) {
      errors.push({
        field: `spec.${key}`,
        type: 'Forbidden',
        detail: 'vmop does not support reserved profiles yet, so this field would be ignored; remove it',
      });
    }
  }
  if (hw?.cpus !== undefined && hw.cpus < 1) {
    errors.push({
      field: 'spec.hardware.cpus',
      type: 'Invalid',
      value: hw.cpus,
      detail: 'must be greater than or equal to 1',
    });
  }
  if (hw?.memory !== undefined) {
    const bytes = parseQuantity(hw.memory);
    if (bytes === undefined || bytes <= 0) {
      errors.push({
        field: 'spec.hardware.memory',
        type: 'Invalid',
        value: hw.memory,
        detail: 'must be a positive quantity, e.g. 4Gi',
      });
    }
  }
  if (s.configSpec !== undefined) {
    const cs = s.configSpec as Record<string, unknown>;
    if (typeof cs._typeName !== 'string' || cs._typeName === '') {
      errors.push({
        field: 'spec.configSpec._typeName',
        type: 'Required',
        detail:
          'configSpec must be a vim25 VirtualMachineConfigSpec in JSON, with "_typeName": "VirtualMachineConfigSpec"',
      });
    } else if (cs._typeName !== 'VirtualMachineConfigSpec') {
      errors.push({
        field: 'spec.configSpec._typeName',
        type: 'NotSupported',
        value: cs._typeName,
        detail: 'supported values: "VirtualMachineConfigSpec"',
      });
    }
    errors.push(...allocationErrors(cs));
  }
  const res = s.policies?.resources;
  for (const [key, unit] of [
    ['cpu', 'CPU cores'],
    ['memory', 'bytes'],
  ] as const) {
    const req = res?.requests?.[key];
    const lim = res?.limits?.[key];
    if (req === undefined || lim === undefined) continue;
    const r = parseQuantity(req);
    const l = parseQuantity(lim);
    if (r !== undefined && l !== undefined && r > l) {
      errors.push({
        field: `spec.policies.resources.requests.${key}`,
        type: 'Invalid',
        value: req,
        detail: `request ${req} (${r} ${unit}) must not exceed limit ${lim} (${l} ${unit})`,
      });
    }
  }
  return errors;
}
