// Operator-owned metadata: annotations and labels under vmop.dev/ hold the operator's own state (the disks it
// attached, the customization it handed to vSphere). A non-privileged user may not add, change or remove one,
// on create or update, so a tenant cannot make the operator act on a forged record.
import type { FieldError } from '../../../api/schema.js';
import type { VMValidationContext } from './context.js';

/** Prefix of the annotation and label keys only the operator (and privileged users) may write. */
export const OWNED_PREFIX = 'vmop.dev/';

function owned(map: Record<string, string> | undefined): Map<string, string> {
  return new Map(Object.entries(map ?? {}).filter(([k]) => k.startsWith(OWNED_PREFIX)));
}

export function validateOwnedMetadata(ctx: VMValidationContext): FieldError[] {
  if (ctx.privileged) return [];
  const errors: FieldError[] = [];
  for (const [what, field] of [
    ['annotation', 'annotations'],
    ['label', 'labels'],
  ] as const) {
    const now = owned(ctx.vm.metadata?.[field] as Record<string, string> | undefined);
    const before = owned(ctx.old?.metadata?.[field] as Record<string, string> | undefined);
    for (const key of new Set([...now.keys(), ...before.keys()])) {
      if (now.get(key) === before.get(key)) continue;
      errors.push({
        field: `metadata.${field}[${key}]`,
        type: 'Forbidden',
        detail: `modifying this ${what} is not allowed for non-admin users: it holds vmop's own state`,
      });
    }
  }
  return errors;
}
