// spec.advanced.bootDiskCapacity and spec.minHardwareVersion: what vSphere can do with them. A boot disk is
// sized in whole MiB and never shrinks; a hardware version is one vSphere knows, never lowered, and raised only
// on a VM that is (or is being) powered off, as VM Operator's webhook says.
import { parseQuantity } from '../../../api/quantity.js';
import type { FieldError } from '../../../api/schema.js';
import type { VMValidationContext } from './context.js';

/** The newest virtual hardware version vSphere knows (vmx-22, vSphere 8.0 U2 and later). */
export const MAX_HARDWARE_VERSION = 22;
const MiB = 1024 * 1024;

export function validateHardware(ctx: VMValidationContext): FieldError[] {
  const errors: FieldError[] = [];
  const spec = ctx.vm.spec ?? {};
  const old = ctx.old?.spec;
  const capacity = spec.advanced?.bootDiskCapacity;
  if (capacity !== undefined) {
    const field = 'spec.advanced.bootDiskCapacity';
    const bytes = parseQuantity(capacity);
    const before = old?.advanced?.bootDiskCapacity;
    const oldBytes = before === undefined ? undefined : parseQuantity(before);
    if (bytes === undefined || bytes <= 0) {
      errors.push({ field, type: 'Invalid', value: capacity, detail: 'must be a positive size' });
    } else if (bytes % MiB !== 0) {
      errors.push({ field, type: 'Invalid', value: bytes, detail: 'value must be a multiple of MB' });
    } else if (oldBytes !== undefined && bytes < oldBytes) {
      errors.push({
        field,
        type: 'Invalid',
        value: capacity,
        detail: `may not be decreased (it was ${String(before)}): vSphere cannot shrink a disk`,
      });
    }
  }
  const hw = spec.minHardwareVersion;
  if (hw !== undefined) {
    const field = 'spec.minHardwareVersion';
    const oldHW = old?.minHardwareVersion ?? 0;
    if (hw > MAX_HARDWARE_VERSION) {
      errors.push({
        field,
        type: 'Invalid',
        value: hw,
        detail: `should be less than or equal to ${MAX_HARDWARE_VERSION}`,
      });
    }
    if (old && hw < oldHW) {
      errors.push({ field, type: 'Invalid', value: hw, detail: 'cannot downgrade hardware version' });
    }
    if (old && hw > oldHW && old.powerState !== 'PoweredOff' && spec.powerState !== 'PoweredOff') {
      errors.push({ field, type: 'Invalid', value: hw, detail: 'cannot upgrade hardware version unless powered off' });
    }
  }
  return errors;
}
