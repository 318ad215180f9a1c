// The operator's finalizer stays until the operator has destroyed the vSphere VM: a non-privileged user who
// removes it from a deployed VM would leave that VM running outside every quota and view, and its IP address
// handed to the next VM. Before the VM exists in vSphere (or once it is gone) removing it is harmless.
import type { FieldError } from '../../../api/schema.js';
import { VM_FINALIZER } from '../../../api/v1alpha6/virtualmachine.js';
import { isDeployed, type VMValidationContext } from './context.js';

export function validateFinalizer(ctx: VMValidationContext): FieldError[] {
  if (ctx.privileged || ctx.operation !== 'UPDATE' || !ctx.old) return [];
  const had = (ctx.old.metadata?.finalizers ?? []).includes(VM_FINALIZER);
  const has = (ctx.vm.metadata?.finalizers ?? []).includes(VM_FINALIZER);
  if (!had || has || !isDeployed(ctx.old)) return [];
  return [
    {
      field: 'metadata.finalizers',
      type: 'Forbidden',
      detail:
        `removing ${VM_FINALIZER} is not allowed for non-admin users while the VM exists in vSphere: ` +
        'delete the VirtualMachine and the operator removes it once the vSphere VM is destroyed',
    },
  ];
}
