// spec.readinessProbe: at most one probe action.
import type { FieldError } from '../../../api/schema.js';
import type { VMValidationContext } from './context.js';

export function validateReadinessProbe(ctx: VMValidationContext): FieldError[] {
  const probe = ctx.vm.spec?.readinessProbe;
  if (!probe) return [];
  const actions = [
    probe.tcpSocket,
    probe.guestHeartbeat,
    (probe.guestInfo?.length ?? 0) > 0 ? probe.guestInfo : undefined,
  ];
  return actions.filter(Boolean).length > 1
    ? [{ field: 'spec.readinessProbe', type: 'Forbidden', detail: 'only one action can be specified' }]
    : [];
}
