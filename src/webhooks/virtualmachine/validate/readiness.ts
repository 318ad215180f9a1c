// spec.readinessProbe: at most one probe action, and a TCP probe's port a number (a named port means nothing
// for a VM: VM Operator's prober fails such a probe for ever, vmop says so at admission).
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
  const errors: FieldError[] =
    actions.filter(Boolean).length > 1
      ? [{ field: 'spec.readinessProbe', type: 'Forbidden', detail: 'only one action can be specified' }]
      : [];
  const port = probe.tcpSocket?.port;
  if (typeof port === 'string') {
    errors.push({
      field: 'spec.readinessProbe.tcpSocket.port',
      type: 'Invalid',
      value: port,
      detail: 'must be a port number (1-65535): a VM has no named ports',
    });
  } else if (typeof port === 'number' && (port < 1 || port > 65535)) {
    errors.push({
      field: 'spec.readinessProbe.tcpSocket.port',
      type: 'Invalid',
      value: port,
      detail: 'must be between 1 and 65535',
    });
  }
  return errors;
}
