// All VirtualMachine validation rules, one family per file, run in a fixed order. The object is checked
// against the hub version's schema first, so the rules only see well-typed input.
import { validate, type FieldError } from '../../../api/schema.js';
import { VirtualMachineSpec, VirtualMachineStatus, type VirtualMachine } from '../../../api/v1alpha6/virtualmachine.js';
import { sameJSON } from '../../../api/json.js';
import { isPlainObject } from '../../../api/schema.js';
import { validateBootstrap } from './bootstrap.js';
import { validateCdrom } from './cdrom.js';
import { validateFinalizer } from './finalizer.js';
import { validateHardware } from './hardware.js';
import type { VMValidationContext } from './context.js';
import { validateHostName } from './hostname.js';
import { validateImmutable } from './immutable.js';
import { validateNetwork } from './network.js';
import { validateOwnedMetadata } from './owned-metadata.js';
import { validatePower } from './power.js';
import { validateReadinessProbe } from './readiness.js';
import { validateRestart } from './restart.js';
import { validateRequired } from './required.js';
import { validateSecretReferences } from './secret-refs.js';
import { validateUnsupported } from './unsupported.js';
import { validateVolumes } from './volumes.js';

/** Rules about metadata, run on every write. */
const METADATA_RULES: ((ctx: VMValidationContext) => FieldError[])[] = [validateOwnedMetadata, validateFinalizer];

/**
 * Rules about the spec, run on create and on an update that changes the spec of an object not being deleted.
 * (An update of metadata alone, such as a finalizer or a label, must go through even for an object whose spec
 * was stored without the webhooks, as VM Operator lets it.)
 */
const SPEC_RULES: ((ctx: VMValidationContext) => FieldError[])[] = [
  validateRequired,
  validateImmutable,
  validatePower,
  validateRestart,
  validateHostName,
  validateNetwork,
  validateBootstrap,
  validateSecretReferences,
  validateVolumes,
  validateReadinessProbe,
  validateHardware,
  validateCdrom,
  validateUnsupported,
];

/** Field errors of the object's structure, or undefined when it is a well-formed VirtualMachine. */
export function structureErrors(obj: unknown, what: string): FieldError[] | undefined {
  if (!isPlainObject(obj))
    return [{ field: what, type: 'TypeInvalid', value: obj, detail: 'must be a VirtualMachine object' }];
  if (!isPlainObject(obj.metadata)) return [{ field: 'metadata', type: 'Required', detail: 'Required value' }];
  const errors = [
    ...(obj.spec === undefined ? [] : validate(VirtualMachineSpec, obj.spec, 'spec')),
    ...(obj.status === undefined ? [] : validate(VirtualMachineStatus, obj.status, 'status')),
  ];
  return errors.length > 0 ? errors : undefined;
}

export function validateVirtualMachine(input: {
  operation: 'CREATE' | 'UPDATE';
  object: unknown;
  oldObject?: unknown;
  privileged: boolean;
}): FieldError[] {
  const { object, oldObject } = input;
  const update = input.operation === 'UPDATE';
  const oldMalformed = update && structureErrors(oldObject, 'oldObject') !== undefined;
  // An update of metadata alone (a finalizer, a label) of an object stored before the schema it would fail now
  // (an older release's looser one): only its metadata is judged, so the operator can still remove its finalizer
  // and nobody is stuck. A change to such an object's spec is refused until the spec is fixed.
  const metadataOnly =
    oldMalformed &&
    isPlainObject(object) &&
    isPlainObject(oldObject) &&
    isPlainObject(object.metadata) &&
    sameJSON(object.spec, oldObject.spec) &&
    sameJSON(object.status, oldObject.status);
  if (!metadataOnly) {
    const bad = structureErrors(object, 'object');
    if (bad) return bad;
    if (oldMalformed) {
      return [
        { field: 'oldObject', type: 'Invalid', value: 'object', detail: 'the stored VirtualMachine is malformed' },
      ];
    }
  }
  const old = update ? (oldObject as VirtualMachine) : undefined;
  const ctx: VMValidationContext = {
    operation: input.operation,
    vm: object as VirtualMachine,
    old,
    privileged: input.privileged,
  };
  if (metadataOnly) return METADATA_RULES.flatMap((rule) => rule(ctx));
  const specRules =
    input.operation === 'CREATE' || (!old?.metadata?.deletionTimestamp && !sameJSON(ctx.vm.spec, old?.spec));
  return [...METADATA_RULES, ...(specRules ? SPEC_RULES : [])].flatMap((rule) => rule(ctx));
}
