// Fields that never change after create (the spec's update table and VM Operator's rules): image, class,
// storage class, instance and BIOS UUIDs, the reserved resource policy, and the bootstrap provider kind.
import type { FieldError } from '../../../api/schema.js';
import type { VMValidationContext } from './context.js';

const IMMUTABLE = 'field is immutable';

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? '') === JSON.stringify(b ?? '');
}

export function validateImmutable(ctx: VMValidationContext): FieldError[] {
  if (ctx.operation !== 'UPDATE' || !ctx.old) return [];
  const spec = ctx.vm.spec ?? {};
  const old = ctx.old.spec ?? {};
  const errors: FieldError[] = [];
  const check = (field: string, now: unknown, before: unknown) => {
    if (!same(now, before)) errors.push({ field, type: 'Invalid', value: now ?? '', detail: IMMUTABLE });
  };
  check('spec.imageName', spec.imageName, old.imageName);
  check('spec.image', spec.image, old.image);
  check('spec.className', spec.className, old.className);
  check('spec.storageClass', spec.storageClass, old.storageClass);
  if (old.instanceUUID) check('spec.instanceUUID', spec.instanceUUID, old.instanceUUID);
  if (old.biosUUID) check('spec.biosUUID', spec.biosUUID, old.biosUUID);
  check('spec.reserved.resourcePolicyName', spec.reserved?.resourcePolicyName, old.reserved?.resourcePolicyName);

  if (!ctx.privileged && old.bootstrap) {
    const kinds = ['cloudInit', 'linuxPrep', 'sysprep'] as const;
    for (const kind of kinds) {
      if (old.bootstrap[kind] && !spec.bootstrap?.[kind]) {
        errors.push({
          field: `spec.bootstrap.${kind}`,
          type: 'Forbidden',
          detail: 'bootstrap provider type cannot be changed',
        });
      }
    }
  }
  return errors;
}
