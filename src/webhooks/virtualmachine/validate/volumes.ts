// spec.volumes: every volume has a unique DNS-label name, a PVC volume names its claim, no claim is used twice,
// and PVC volumes are read-write.
import type { FieldError } from '../../../api/schema.js';
import { isDNSLabel } from '../../../api/names.js';
import type { VMValidationContext } from './context.js';

export function validateVolumes(ctx: VMValidationContext): FieldError[] {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  const claims = new Set<string>();
  (ctx.vm.spec?.volumes ?? []).forEach((vol, i) => {
    const p = `spec.volumes[${i}]`;
    if (!vol.name) {
      errors.push({ field: `${p}.name`, type: 'Required', detail: 'Required value' });
    } else {
      if (names.has(vol.name)) errors.push({ field: `${p}.name`, type: 'Duplicate', value: vol.name, detail: '' });
      names.add(vol.name);
      if (!isDNSLabel(vol.name)) {
        errors.push({
          field: `${p}.name`,
          type: 'Invalid',
          value: vol.name,
          detail:
            "must be a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
        });
      }
    }
    const pvc = vol.persistentVolumeClaim;
    if (!pvc) {
      errors.push({
        field: `${p}.persistentVolumeClaim`,
        type: 'Required',
        detail: 'a volume source is required: persistentVolumeClaim',
      });
      return;
    }
    if (pvc.readOnly) {
      errors.push({
        field: `${p}.persistentVolumeClaim.readOnly`,
        type: 'NotSupported',
        value: true,
        detail: 'supported values: "false"',
      });
    }
    if (!pvc.claimName) {
      errors.push({ field: `${p}.persistentVolumeClaim.claimName`, type: 'Required', detail: 'Required value' });
    } else {
      if (claims.has(pvc.claimName)) {
        errors.push({
          field: `${p}.persistentVolumeClaim.claimName`,
          type: 'Duplicate',
          value: pvc.claimName,
          detail: '',
        });
      }
      claims.add(pvc.claimName);
    }
  });
  return errors;
}
