// Fields of the v1alpha3 schema that vmop does not implement yet: refused when a create sets them or an update
// changes them, with a message that says so, never stored and ignored. (An object stored with one before this
// rule keeps it through updates that leave it alone.)
import { sameJSON } from '../../../api/json.js';
import type { FieldError } from '../../../api/schema.js';
import type { VirtualMachine } from '../../../api/v1alpha3/virtualmachine.js';
import type { VMValidationContext } from './context.js';

type Spec = NonNullable<VirtualMachine['spec']>;

/** Each unsupported field: where it is, how to read it from a spec, and what it would do. */
const UNSUPPORTED: { field: string; read: (spec: Spec) => unknown; what: string }[] = [
  { field: 'spec.crypto', read: (s) => s.crypto, what: 'VM encryption' },
  {
    field: 'spec.advanced.defaultVolumeProvisioningMode',
    read: (s) => s.advanced?.defaultVolumeProvisioningMode,
    what: 'a provisioning mode for the VM’s volumes',
  },
  {
    field: 'spec.advanced.changeBlockTracking',
    read: (s) => s.advanced?.changeBlockTracking,
    what: 'changed block tracking',
  },
  {
    field: 'spec.reserved.resourcePolicyName',
    read: (s) => s.reserved?.resourcePolicyName,
    what: 'VirtualMachineSetResourcePolicies',
  },
];

export function validateUnsupported(ctx: VMValidationContext): FieldError[] {
  const spec = ctx.vm.spec ?? {};
  const old = ctx.old?.spec ?? {};
  const errors: FieldError[] = [];
  const refuse = (field: string, what: string) =>
    errors.push({
      field,
      type: 'Forbidden',
      detail: `vmop does not support ${what} yet, so this field would be ignored; remove it`,
    });
  for (const u of UNSUPPORTED) {
    const value = u.read(spec);
    if (value !== undefined && !sameJSON(value, u.read(old))) refuse(u.field, u.what);
  }
  const oldClaims = new Map((old.volumes ?? []).map((v) => [v.name, v.persistentVolumeClaim?.instanceVolumeClaim]));
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    const ivc = v.persistentVolumeClaim?.instanceVolumeClaim;
    if (ivc !== undefined && !sameJSON(ivc, oldClaims.get(v.name)))
      refuse(`spec.volumes[${i}].persistentVolumeClaim.instanceVolumeClaim`, 'instance storage volumes');
  }
  return errors;
}
