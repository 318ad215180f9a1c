// The versions vmop serves of each vmoperator.vmware.com kind, oldest first; the last is the hub and the
// storage version. Each names its schemas and the fields it holds elsewhere than the hub (its moves).
import { converter, EACH, type Converter, type Move, type VersionShape } from './conversion.js';
import { s, type JSONSchemaProps, type Schema } from './schema.js';
import { GROUP } from './v1alpha3/common.js';
import * as v3 from './v1alpha3/virtualmachine.js';
import * as v4 from './v1alpha4/virtualmachine.js';
import * as v5 from './v1alpha5/virtualmachine.js';
import * as v6 from './v1alpha6/virtualmachine.js';
import { VirtualMachineClassSpec } from './v1alpha3/virtualmachineclass.js';
import { VirtualMachineImageSpec, VirtualMachineImageStatus as V3ImageStatus } from './v1alpha3/virtualmachineimage.js';
import { VirtualMachineImageStatus as V5ImageStatus } from './v1alpha5/virtualmachineimage.js';

export const SERVED_VERSIONS = ['v1alpha3', 'v1alpha4', 'v1alpha5', 'v1alpha6'] as const;
export type ServedVersion = (typeof SERVED_VERSIONS)[number];
export const HUB_VERSION: ServedVersion = 'v1alpha6';

export const VERSIONED_KINDS = [
  'VirtualMachine',
  'VirtualMachineClass',
  'VirtualMachineImage',
  'ClusterVirtualMachineImage',
] as const;
export type VersionedKind = (typeof VERSIONED_KINDS)[number];

export interface KindVersion {
  spec: Schema<unknown>;
  status: Schema<unknown>;
  moves: readonly Move[];
}

const CDROM: Move = { hub: ['spec', 'hardware', 'cdrom'], spoke: ['spec', 'cdrom'] };
const NODE_NAME: Move = { hub: ['status', 'nodeName'], spoke: ['status', 'host'] };
const STORAGE_TOTAL: Move = { hub: ['status', 'storage', 'total'], spoke: ['status', 'storage', 'usage', 'total'] };

const DISK_LIMIT: Move = { hub: ['status', 'disks', EACH, 'limit'], spoke: ['status', 'disks', EACH, 'capacity'] };
const DISK_REQUESTED: Move = {
  hub: ['status', 'disks', EACH, 'requested'],
  spoke: ['status', 'disks', EACH, 'size'],
};

/** A class has no observed state in VM Operator (its status is an empty object). */
const classStatus = s.object({}, { description: 'Observed state of the class (none).' });
const same = (spec: Schema<unknown>, status: Schema<unknown>): Record<ServedVersion, KindVersion> => ({
  v1alpha3: { spec, status, moves: [] },
  v1alpha4: { spec, status, moves: [] },
  v1alpha5: { spec, status, moves: [] },
  v1alpha6: { spec, status, moves: [] },
});

/** Images: v1alpha5 names each disk's capacity and size `limit` and `requested`. */
const images: Record<ServedVersion, KindVersion> = {
  v1alpha3: { spec: VirtualMachineImageSpec, status: V3ImageStatus, moves: [DISK_LIMIT, DISK_REQUESTED] },
  v1alpha4: { spec: VirtualMachineImageSpec, status: V3ImageStatus, moves: [DISK_LIMIT, DISK_REQUESTED] },
  v1alpha5: { spec: VirtualMachineImageSpec, status: V5ImageStatus, moves: [] },
  v1alpha6: { spec: VirtualMachineImageSpec, status: V5ImageStatus, moves: [] },
};

/** Each kind's shape in each served version. (Classes did not change.) */
export const KIND_VERSIONS: Record<VersionedKind, Record<ServedVersion, KindVersion>> = {
  VirtualMachine: {
    v1alpha3: {
      spec: v3.VirtualMachineSpec,
      status: v3.VirtualMachineStatus,
      moves: [CDROM, NODE_NAME, STORAGE_TOTAL],
    },
    v1alpha4: { spec: v4.VirtualMachineSpec, status: v4.VirtualMachineStatus, moves: [CDROM] },
    v1alpha5: { spec: v5.VirtualMachineSpec, status: v5.VirtualMachineStatus, moves: [] },
    v1alpha6: { spec: v6.VirtualMachineSpec, status: v6.VirtualMachineStatus, moves: [] },
  },
  VirtualMachineClass: same(VirtualMachineClassSpec, classStatus),
  VirtualMachineImage: images,
  ClusterVirtualMachineImage: images,
};

function bodySchema(v: KindVersion): JSONSchemaProps {
  return { type: 'object', properties: { spec: v.spec.toOpenAPI(), status: v.status.toOpenAPI() } };
}

const converters = new Map<VersionedKind, Converter>();

/** The converter of a kind's served versions (built once). */
export function converterFor(kind: VersionedKind): Converter {
  let c = converters.get(kind);
  if (!c) {
    const shapes: Record<string, VersionShape> = {};
    for (const [version, v] of Object.entries(KIND_VERSIONS[kind])) {
      shapes[version] = { schema: bodySchema(v), moves: v.moves };
    }
    c = converter(GROUP, HUB_VERSION, shapes);
    converters.set(kind, c);
  }
  return c;
}

export function isVersionedKind(kind: unknown): kind is VersionedKind {
  return (VERSIONED_KINDS as readonly unknown[]).includes(kind);
}

/**
 * A hub field path (`spec.hardware.cdrom[0].name`) as `version` names it (`spec.cdrom[0].name` before v1alpha5):
 * admission works on the hub, and its errors speak the version of the request.
 */
export function fieldPathIn(kind: VersionedKind, version: string | undefined, field: string): string {
  const shape = (KIND_VERSIONS[kind] as Partial<Record<string, KindVersion>>)[version ?? ''];
  for (const m of shape?.moves ?? []) {
    const hub = m.hub.join('.');
    if (field === hub || field.startsWith(`${hub}.`) || field.startsWith(`${hub}[`)) {
      return m.spoke.join('.') + field.slice(hub.length);
    }
  }
  return field;
}
