// Power state rules: Suspended is not a create-time state, the desired state cannot be emptied, and changes
// follow the spec's transition table keyed by the observed power state; guestID cannot change while on.
import type { FieldError } from '../../../api/schema.js';
import { observedPowerState, type VMValidationContext } from './context.js';

const OBSERVED_WORDS: Record<string, string> = {
  PoweredOff: 'powered off',
  Suspended: 'suspended',
  PoweredOn: 'powered on',
};

export function validatePower(ctx: VMValidationContext): FieldError[] {
  const spec = ctx.vm.spec ?? {};
  const field = 'spec.powerState';
  if (ctx.operation === 'CREATE') {
    return spec.powerState === 'Suspended'
      ? [{ field, type: 'Invalid', value: spec.powerState, detail: "cannot set a new VM's power state to Suspended" }]
      : [];
  }
  const errors: FieldError[] = [];
  const oldSpec = ctx.old?.spec ?? {};
  const desired = spec.powerState;
  if (desired === undefined || (desired as string) === '') {
    return [{ field, type: 'Invalid', value: '', detail: 'cannot set power state to empty string' }];
  }
  const observed = observedPowerState(ctx.old);
  if (desired !== oldSpec.powerState && observed !== undefined) {
    const from = OBSERVED_WORDS[observed] ?? observed;
    if (observed === 'PoweredOff' && desired === 'Suspended' && spec.powerOffMode !== 'Hard') {
      errors.push({
        field,
        type: 'Invalid',
        value: desired,
        detail: `cannot suspend a VM that is ${from} unless spec.powerOffMode is Hard`,
      });
    }
    if (observed === 'Suspended' && desired === 'PoweredOff') {
      errors.push({ field, type: 'Invalid', value: desired, detail: `cannot power off a VM that is ${from}` });
    }
  }
  if (observed === 'PoweredOn' && desired === 'PoweredOn' && (spec.guestID ?? '') !== (oldSpec.guestID ?? '')) {
    errors.push({
      field: 'spec.guestID',
      type: 'Forbidden',
      detail: 'updates to this field is not allowed when VM power is on',
    });
  }
  return errors;
}
