// Mutation of VirtualMachines on create and update: canonical spellings of power states and modes, the
// defaults VM Operator sets (power state, instance and BIOS UUIDs, the default interface, the Cloud-Init
// instance ID, a CD-ROM image's kind), the operator's finalizer on new VMs, `nextRestartTime: now` turned into a
// timestamp, and (with the image caches) spec.imageName resolved into spec.image. It also refuses the inputs
// that only the raw request shows: UUIDs set by unprivileged users and nextRestartTime values other than "now".
import { randomUUID } from 'node:crypto';
import { isPlainObject, type FieldError } from '../../api/schema.js';
import { VM_FINALIZER } from '../../api/v1alpha6/virtualmachine.js';
import type { ImageCatalog } from './images.js';
import { canonicalPowerOpMode, canonicalPowerState } from './spellings.js';

export interface MutationInput {
  operation: 'CREATE' | 'UPDATE';
  object: unknown;
  oldObject?: unknown;
  privileged: boolean;
  now: () => Date;
}

export type MutationResult = { errors: FieldError[] } | { object: unknown };

type JSONObject = Record<string, unknown>;

function child(obj: JSONObject, key: string): JSONObject {
  const value = obj[key];
  if (isPlainObject(value)) return value;
  const created: JSONObject = {};
  obj[key] = created;
  return created;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function normalizeSpellings(spec: JSONObject): void {
  const state = canonicalPowerState(spec.powerState);
  if (state) spec.powerState = state;
  for (const key of ['powerOffMode', 'suspendMode', 'restartMode']) {
    const mode = canonicalPowerOpMode(spec[key]);
    if (mode) spec[key] = mode;
  }
}

function mutateCreate(spec: JSONObject, input: MutationInput, errors: FieldError[]): void {
  for (const key of ['instanceUUID', 'biosUUID']) {
    if (!isEmpty(spec[key]) && !input.privileged) {
      errors.push({
        field: `spec.${key}`,
        type: 'Forbidden',
        detail: 'restricted to privileged users: leave it empty and a random UUID is assigned',
      });
    }
  }
  if (isEmpty(spec.powerState)) spec.powerState = 'PoweredOn';
  if (isEmpty(spec.instanceUUID)) spec.instanceUUID = randomUUID();
  if (isEmpty(spec.biosUUID)) spec.biosUUID = randomUUID();

  const network = spec.network;
  const disabled = isPlainObject(network) && network.disabled === true;
  const interfaces = isPlainObject(network) ? network.interfaces : undefined;
  if (
    !disabled &&
    (interfaces === undefined || interfaces === null || (Array.isArray(interfaces) && interfaces.length === 0))
  ) {
    child(spec, 'network').interfaces = [{ name: 'eth0' }];
  }

  const bootstrap = spec.bootstrap;
  if (isPlainObject(bootstrap) && isPlainObject(bootstrap.cloudInit) && isEmpty(bootstrap.cloudInit.instanceID)) {
    bootstrap.cloudInit.instanceID = spec.biosUUID;
  }
  for (const image of cdromImages(spec)) if (image.kind === '') image.kind = DEFAULT_IMAGE_KIND;
}

/** The kind a CD-ROM's image gets when its kind is empty, as VM Operator defaults it. */
const DEFAULT_IMAGE_KIND = 'VirtualMachineImage';

/** The image references of the spec's CD-ROMs (spec.hardware.cdrom in the hub version), as objects. */
function cdromImages(spec: JSONObject): JSONObject[] {
  const hardware = spec.hardware;
  const list = isPlainObject(hardware) && Array.isArray(hardware.cdrom) ? hardware.cdrom : [];
  return list.flatMap((c) => (isPlainObject(c) && isPlainObject(c.image) ? [c.image] : []));
}

function mutateUpdate(spec: JSONObject, oldSpec: JSONObject, input: MutationInput, errors: FieldError[]): void {
  // An emptied CD-ROM image kind comes back only where it was the default (another kind emptied is refused).
  const oldKinds = new Map(cdromImages(oldSpec).map((i) => [i.name, i.kind]));
  for (const image of cdromImages(spec)) {
    if (image.kind === '' && oldKinds.get(image.name) === DEFAULT_IMAGE_KIND) image.kind = DEFAULT_IMAGE_KIND;
  }
  const next = spec.nextRestartTime;
  const previous = oldSpec.nextRestartTime;
  if (isEmpty(next)) {
    if (!isEmpty(previous)) spec.nextRestartTime = previous;
    return;
  }
  if (next === previous) return;
  if (typeof next === 'string' && next.toLowerCase() === 'now') {
    if (spec.powerState !== 'PoweredOn') {
      errors.push({
        field: 'spec.nextRestartTime',
        type: 'Invalid',
        value: next,
        detail: `cannot restart a VM whose spec.powerState is ${JSON.stringify(spec.powerState ?? '')}: only a VM that is to be PoweredOn can be restarted`,
      });
      return;
    }
    spec.nextRestartTime = input.now().toISOString();
    return;
  }
  errors.push({
    field: 'spec.nextRestartTime',
    type: 'Invalid',
    value: next,
    detail:
      'the only allowed values are "now" (any case) to restart the VM, or empty to keep the last value; restarts cannot be scheduled',
  });
}

/** Applies the VirtualMachine mutation rules to a copy of the object. */
export function mutateVirtualMachine(input: MutationInput): MutationResult {
  if (!isPlainObject(input.object)) return { object: input.object };
  const vm = structuredClone(input.object);
  // A spec of the wrong type is left for the schema to reject.
  if (vm.spec !== undefined && !isPlainObject(vm.spec)) return { object: vm };
  const spec = child(vm, 'spec');
  const errors: FieldError[] = [];
  normalizeSpellings(spec);
  if (input.operation === 'CREATE') {
    mutateCreate(spec, input, errors);
    // On from the start: the controller would otherwise write it before its first vSphere call.
    const metadata = child(vm, 'metadata');
    const finalizers = Array.isArray(metadata.finalizers) ? metadata.finalizers : [];
    if (!finalizers.includes(VM_FINALIZER)) metadata.finalizers = [...finalizers, VM_FINALIZER];
  } else {
    const old = isPlainObject(input.oldObject) && isPlainObject(input.oldObject.spec) ? input.oldObject.spec : {};
    mutateUpdate(spec, old, input, errors);
  }
  return errors.length > 0 ? { errors } : { object: vm };
}

/**
 * On create: spec.imageName (an image's object name, or a display name unique in the VM's scope) resolved
 * into spec.image, and imageName set to the image object's name, as VM Operator does; a display name that
 * names no image, or several, is refused. An object name not found (yet) is left for the controller, which
 * waits for its image. Changes `object` in place.
 */
export async function resolveImageName(object: unknown, images: ImageCatalog): Promise<FieldError[]> {
  if (!isPlainObject(object) || !isPlainObject(object.spec) || !isPlainObject(object.metadata)) return [];
  const spec = object.spec;
  const name = spec.imageName;
  if (typeof name !== 'string' || name === '' || spec.image !== undefined) return [];
  const namespace = typeof object.metadata.namespace === 'string' ? object.metadata.namespace : '';
  const found = await images.resolve(namespace, name);
  if (!found) return [];
  if ('error' in found) return [{ field: 'spec.imageName', type: 'Invalid', value: name, detail: found.error }];
  spec.image = { kind: found.image.kind, name: found.image.name };
  spec.imageName = found.image.name;
  return [];
}
