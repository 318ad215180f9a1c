// vim25 type metadata (generated from govmomi's vim25/types by tools/govmomi/gen-vim25-meta.sh): each data
// object type's base type and its properties in schema order, which the SOAP codec needs to emit elements in
// order, know which ones repeat, and read values back with their types.
import raw from './metadata.json' with { type: 'json' };

export interface PropertyInfo {
  name: string;
  /** A vim25 type name, or an XML Schema type such as `xsd:int`. */
  type: string;
  array: boolean;
  optional: boolean;
}

interface RawMeta {
  version: string;
  types: Record<string, { b?: string; p?: [string, string, string][] }>;
}

const META = raw as unknown as RawMeta;

const propsCache = new Map<string, PropertyInfo[]>();
const indexCache = new Map<string, Map<string, PropertyInfo>>();

export function isKnownType(name: string): boolean {
  return name in META.types;
}

export function baseType(name: string): string | undefined {
  return META.types[name]?.b;
}

/** True when `type` is `ancestor` or derives from it. */
export function isSubtype(type: string, ancestor: string): boolean {
  for (let t: string | undefined = type; t; t = baseType(t)) if (t === ancestor) return true;
  return false;
}

/** Every property of `type`, inherited ones first, in the order the schema lists them. */
export function properties(type: string): PropertyInfo[] {
  const cached = propsCache.get(type);
  if (cached) return cached;
  const own = (META.types[type]?.p ?? []).map(([name, t, flags]) => ({
    name,
    type: t,
    array: flags.includes('a'),
    optional: flags.includes('o'),
  }));
  const base = baseType(type);
  const all = [...(base ? properties(base) : []), ...own];
  propsCache.set(type, all);
  return all;
}

export function property(type: string, name: string): PropertyInfo | undefined {
  let index = indexCache.get(type);
  if (!index) {
    index = new Map(properties(type).map((p) => [p.name, p]));
    indexCache.set(type, index);
  }
  return index.get(name);
}
