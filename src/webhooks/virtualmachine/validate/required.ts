// What a new VM cannot do without (the spec calls each required): its class, its image (by spec.imageName or
// spec.image, of a kind that is an image) and its storage class — each named by its field when missing.
import type { FieldError } from '../../../api/schema.js';
import type { VMValidationContext } from './context.js';

const IMAGE_KINDS = ['VirtualMachineImage', 'ClusterVirtualMachineImage'];

export function validateRequired(ctx: VMValidationContext): FieldError[] {
  if (ctx.operation !== 'CREATE') return [];
  const spec = ctx.vm.spec ?? {};
  const errors: FieldError[] = [];
  if (!spec.className)
    errors.push({ field: 'spec.className', type: 'Required', detail: 'the VM’s VirtualMachineClass' });
  if (!spec.image && !spec.imageName) {
    errors.push({
      field: 'spec.image',
      type: 'Required',
      detail: 'name the VM’s image in spec.imageName or spec.image',
    });
  } else if (spec.image && !IMAGE_KINDS.includes(spec.image.kind)) {
    errors.push({
      field: 'spec.image.kind',
      type: spec.image.kind ? 'Invalid' : 'Required',
      value: spec.image.kind || undefined,
      detail: `supported: ${IMAGE_KINDS.join('; ')}`,
    });
  }
  if (!spec.storageClass)
    errors.push({
      field: 'spec.storageClass',
      type: 'Required',
      detail: 'the StorageClass that places the VM’s disks',
    });
  return errors;
}
