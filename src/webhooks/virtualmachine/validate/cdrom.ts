// spec.hardware.cdrom (spec.cdrom before v1alpha5), with VM Operator's rules and messages: a guest ID with any
// CD-ROM (the guest cannot be told from an ISO), images of the two image kinds, no image twice, and — while the
// VM is on and stays on — no CD-ROM added, removed, renamed or given another image (connected and
// allowGuestControl may change).
import type { FieldError } from '../../../api/schema.js';
import { observedPowerState, type VMValidationContext } from './context.js';

const KINDS = ['VirtualMachineImage', 'ClusterVirtualMachineImage'];
const WHEN_ON = 'updates to this field is not allowed when VM power is on';
const ADDING = 'adding new CD-ROMs is not allowed when VM is powered on';
const REMOVING = 'removing CD-ROMs is not allowed when VM is powered on';

export function validateCdrom(ctx: VMValidationContext): FieldError[] {
  const cdroms = ctx.vm.spec?.hardware?.cdrom ?? [];
  const errors: FieldError[] = [];
  if (cdroms.length === 0 && !ctx.old?.spec?.hardware?.cdrom?.length) return errors;
  if (cdroms.length > 0 && !ctx.vm.spec?.guestID) {
    errors.push({ field: 'spec.guestID', type: 'Required', detail: 'when deploying a VM with CD-ROMs' });
  }
  const images = new Set<string>();
  for (const [i, c] of cdroms.entries()) {
    if (!KINDS.includes(c.image.kind)) {
      errors.push({
        field: `spec.hardware.cdrom[${i}].image.kind`,
        type: 'NotSupported',
        value: c.image.kind,
        detail: `supported values: ${KINDS.map((k) => JSON.stringify(k)).join(', ')}`,
      });
    }
    if (images.has(c.image.name)) {
      errors.push({
        field: `spec.hardware.cdrom[${i}].image.name`,
        type: 'Duplicate',
        value: c.image.name,
        detail: '',
      });
    }
    images.add(c.image.name);
  }
  const old = ctx.old?.spec;
  if (old && observedPowerState(ctx.old) === 'PoweredOn' && (ctx.vm.spec?.powerState ?? 'PoweredOn') === 'PoweredOn') {
    const before = old.hardware?.cdrom ?? [];
    if (before.length !== cdroms.length) {
      errors.push({ field: 'spec.hardware.cdrom', type: 'Forbidden', detail: WHEN_ON });
      return errors;
    }
    // The same count under other names: a CD-ROM removed and another added, each said as VM Operator says it.
    const names = new Set(cdroms.map((c) => c.name));
    if (before.some((c) => !names.has(c.name))) {
      errors.push({ field: 'spec.hardware.cdrom.name', type: 'Forbidden', detail: REMOVING });
    }
    const imageOf = new Map(before.map((c) => [c.name, c.image]));
    for (const [i, c] of cdroms.entries()) {
      const was = imageOf.get(c.name);
      if (!was) errors.push({ field: `spec.hardware.cdrom[${i}].name`, type: 'Forbidden', detail: ADDING });
      else if (was.kind !== c.image.kind || was.name !== c.image.name) {
        errors.push({ field: `spec.hardware.cdrom[${i}].image`, type: 'Forbidden', detail: WHEN_ON });
      }
    }
  }
  return errors;
}
