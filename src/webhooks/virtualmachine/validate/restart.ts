// spec.nextRestartTime: empty on create; on update only the timestamp the mutating webhook wrote for "now",
// and only for a VM that is observed powered on (the spec's ❌ cells for powered-off and suspended VMs).
import type { FieldError } from '../../../api/schema.js';
import { observedPowerState, type VMValidationContext } from './context.js';

// RFC 3339 with optional fractional seconds, as Go's time.RFC3339Nano parses it.
const RFC3339_NANO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function validateRestart(ctx: VMValidationContext): FieldError[] {
  const field = 'spec.nextRestartTime';
  const next = ctx.vm.spec?.nextRestartTime ?? '';
  if (ctx.operation === 'CREATE') {
    return next === '' ? [] : [{ field, type: 'Invalid', value: next, detail: 'cannot restart VM on create' }];
  }
  if (next === (ctx.old?.spec?.nextRestartTime ?? '')) return [];
  if (next.toLowerCase() === 'now') {
    return [{ field, type: 'Invalid', value: next, detail: 'mutation webhooks are required to restart VM' }];
  }
  if (!RFC3339_NANO.test(next) || Number.isNaN(Date.parse(next))) {
    return [{ field, type: 'Invalid', value: next, detail: 'must be formatted as RFC3339Nano' }];
  }
  const observed = observedPowerState(ctx.old);
  if (observed === 'PoweredOff' || observed === 'Suspended') {
    const words = observed === 'PoweredOff' ? 'powered off' : 'suspended';
    return [{ field, type: 'Invalid', value: next, detail: `cannot restart a VM that is ${words}` }];
  }
  return [];
}
