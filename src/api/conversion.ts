// Lossless conversion between the served versions of a kind, through the hub (the newest version). A version
// differs from the hub by moved fields (moves) and by fields it lacks; converting the hub to it moves, then
// prunes to its schema, and keeps whatever that lost in an annotation, so that converting back restores it:
// a client of an older version that updates an object never erases what only a newer version can say.
import type { JSONSchemaProps } from './schema.js';
import { isPlainObject } from './schema.js';

/** Holds what a version could not represent of the hub object (JSON: a list of path and value). */
export const CONVERSION_ANNOTATION = 'vmop.dev/conversion-data';

/**
 * A field at `hub` in the hub version and at `spoke` in another: object property names, where `[]` stands for
 * every item of a list (a field renamed inside list items; both paths then share the part before `[]`).
 */
export interface Move {
  hub: readonly string[];
  spoke: readonly string[];
}

export const EACH = '[]';

export interface VersionShape {
  /** The version's openAPIV3Schema of the whole object (what the API server prunes to). */
  schema: JSONSchemaProps;
  moves: readonly Move[];
}

type Json = unknown;
type JsonObject = Record<string, Json>;
/** One step of a path: a property, a list index, or the key fields of an item of a keyed list. */
type Segment = string | number | Record<string, Json>;
interface Lost {
  p: Segment[];
  v: Json;
}

const BODY = ['spec', 'status'] as const;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Keeps what `schema` names (as the API server prunes); free-form parts are kept whole. */
export function prune(value: Json, schema: JSONSchemaProps | undefined): Json {
  if (!schema || schema['x-kubernetes-preserve-unknown-fields']) return value;
  if (Array.isArray(value)) return schema.items ? value.map((v) => prune(v, schema.items)) : value;
  if (!isPlainObject(value)) return value;
  const out: JsonObject = {};
  if (schema.properties) {
    for (const [k, v] of Object.entries(value)) {
      const child = schema.properties[k];
      if (child) out[k] = prune(v, child);
    }
    return out;
  }
  if (typeof schema.additionalProperties === 'object') {
    for (const [k, v] of Object.entries(value)) out[k] = prune(v, schema.additionalProperties);
    return out;
  }
  return schema.type === 'object' && !schema.additionalProperties ? {} : value;
}

/** Removes the value at `path` (and the objects it leaves empty); returns it. */
function take(obj: JsonObject, path: readonly string[]): Json {
  const parents: JsonObject[] = [obj];
  let cur: JsonObject = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (!isPlainObject(next)) return undefined;
    parents.push(next);
    cur = next;
  }
  const last = path[path.length - 1]!;
  if (!(last in cur)) return undefined;
  const value = cur[last];
  delete cur[last];
  for (let i = parents.length - 1; i > 0; i--) {
    if (Object.keys(parents[i]!).length > 0) break;
    delete parents[i - 1]![path[i - 1]!];
  }
  return value;
}

function put(obj: JsonObject, path: readonly string[], value: Json): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(cur[key])) cur[key] = {};
    cur = cur[key] as JsonObject;
  }
  cur[path[path.length - 1]!] = value;
}

function moveOne(obj: JsonObject, from: readonly string[], to: readonly string[]): void {
  const each = from.indexOf(EACH);
  if (each < 0) {
    const value = take(obj, from);
    if (value !== undefined) put(obj, to, value);
    return;
  }
  // Inside every item of the list at the shared prefix.
  let list: Json = obj;
  for (const key of from.slice(0, each)) list = isPlainObject(list) ? list[key] : undefined;
  if (!Array.isArray(list)) return;
  for (const item of list) {
    if (isPlainObject(item)) moveOne(item, from.slice(each + 1), to.slice(to.indexOf(EACH) + 1));
  }
}

function move(body: JsonObject, moves: readonly Move[], toHub: boolean): void {
  for (const m of moves) moveOne(body, toHub ? m.spoke : m.hub, toHub ? m.hub : m.spoke);
}

function bodyOf(obj: JsonObject): JsonObject {
  const body: JsonObject = {};
  for (const k of BODY) if (obj[k] !== undefined) body[k] = clone(obj[k]);
  return body;
}

function withBody(obj: JsonObject, body: JsonObject, apiVersion: string): JsonObject {
  const out: JsonObject = { ...obj, apiVersion };
  for (const k of BODY) {
    if (body[k] === undefined) delete out[k];
    else out[k] = body[k];
  }
  return out;
}

function child(schema: JSONSchemaProps | undefined, key: string): JSONSchemaProps | undefined {
  if (!schema) return undefined;
  if (schema.properties) return schema.properties[key];
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

function keyOf(item: Json, keys: readonly string[]): Record<string, Json> | undefined {
  if (!isPlainObject(item) || keys.some((k) => item[k] === undefined)) return undefined;
  return Object.fromEntries(keys.map((k) => [k, item[k]]));
}

/** `item` is an object with none of the key fields (the version it was converted to has none). */
function lacksKeys(item: Json, keys: readonly string[] | undefined): boolean {
  return isPlainObject(item) && (keys ?? []).every((k) => item[k] === undefined);
}

function sameKey(item: Json, key: Record<string, Json>): boolean {
  return isPlainObject(item) && Object.entries(key).every(([k, v]) => item[k] === v);
}

/** The parts of `full` that `kept` lacks, as paths (keyed list items by their keys, other items by index). */
function lostParts(full: Json, kept: Json, schema: JSONSchemaProps | undefined, path: Segment[], out: Lost[]): void {
  if (full === undefined) return;
  if (kept === undefined) {
    out.push({ p: path, v: full });
    return;
  }
  if (isPlainObject(full) && isPlainObject(kept)) {
    for (const [k, v] of Object.entries(full)) lostParts(v, kept[k], child(schema, k), [...path, k], out);
    return;
  }
  if (Array.isArray(full) && Array.isArray(kept)) {
    const keys = schema?.['x-kubernetes-list-map-keys'];
    full.forEach((item, i) => {
      const key = keys && keyOf(item, keys);
      const byKey = key ? kept.find((k) => sameKey(k, key)) : undefined;
      // A version that cannot hold the key fields (v1alpha3's image disks have no name) keeps the items in
      // order: they are matched by position, and the key comes back with the rest of what was lost.
      const positional = !key || (byKey === undefined && lacksKeys(kept[i], keys));
      const other = positional ? kept[i] : byKey;
      lostParts(item, other, schema?.items, [...path, positional ? i : key], out);
    });
  }
}

/** Puts each lost part back where the object still has its parent (a list item a client removed stays gone). */
function graft(body: JsonObject, lost: readonly Lost[]): void {
  for (const { p, v } of lost) {
    let cur: Json = body;
    let ok = true;
    for (let i = 0; i < p.length - 1 && ok; i++) {
      const seg = p[i];
      const nextIsProp = typeof p[i + 1] === 'string';
      if (typeof seg === 'string' && isPlainObject(cur)) {
        // An object the version cannot hold is made again; a list is not (its items came from the client).
        if (cur[seg] === undefined && nextIsProp) cur[seg] = {};
        cur = cur[seg];
        ok = cur !== undefined;
      } else if (Array.isArray(cur) && seg !== undefined && typeof seg !== 'string') {
        cur = typeof seg === 'number' ? cur[seg] : cur.find((item) => sameKey(item, seg));
        ok = cur !== undefined;
      } else ok = false;
    }
    const last = p[p.length - 1];
    if (ok && typeof last === 'string' && isPlainObject(cur) && cur[last] === undefined) cur[last] = clone(v);
  }
}

function validSegment(seg: unknown): seg is Segment {
  if (typeof seg === 'string') return !FORBIDDEN.has(seg);
  if (typeof seg === 'number') return Number.isInteger(seg) && seg >= 0 && seg < 100_000;
  return isPlainObject(seg) && Object.keys(seg).every((k) => !FORBIDDEN.has(k));
}

/** The lost parts an annotation holds; nothing when it is missing or not what this module writes. */
function readLost(annotation: string | undefined): Lost[] {
  if (!annotation) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotation);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (l): l is Lost =>
      isPlainObject(l) &&
      Array.isArray(l.p) &&
      l.p.length > 0 &&
      (l.p[0] === 'spec' || l.p[0] === 'status') &&
      l.p.every(validSegment),
  );
}

function annotationsOf(obj: JsonObject): Record<string, string> | undefined {
  const meta = obj.metadata;
  if (!isPlainObject(meta) || !isPlainObject(meta.annotations)) return undefined;
  return meta.annotations as Record<string, string>;
}

function withAnnotation(obj: JsonObject, value: string | undefined): JsonObject {
  const meta = isPlainObject(obj.metadata) ? { ...obj.metadata } : {};
  const annotations = { ...(isPlainObject(meta.annotations) ? meta.annotations : {}) };
  if (value === undefined) delete annotations[CONVERSION_ANNOTATION];
  else annotations[CONVERSION_ANNOTATION] = value;
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  else delete meta.annotations;
  return { ...obj, metadata: meta };
}

/** The hub body of an object of `shape`'s version: moved back and pruned to the hub (no annotation read). */
function hubBody(obj: JsonObject, shape: VersionShape, hub: VersionShape): JsonObject {
  const body = bodyOf(obj);
  move(body, shape.moves, true);
  return prune(body, hub.schema) as JsonObject;
}

export interface Converter {
  /** An object of any served version (`apiVersion` says which) as the hub version. */
  toHub(obj: JsonObject): JsonObject;
  /** A hub object as `version`, what it cannot hold kept in the annotation. */
  fromHub(obj: JsonObject, version: string): JsonObject;
  /** Any served version to any other. */
  convert(obj: JsonObject, apiVersion: string): JsonObject;
}

/**
 * A converter for one kind: `versions` maps each served version to its shape; `hub` names the hub version
 * (its moves are empty). An unknown version throws.
 */
export function converter(group: string, hub: string, versions: Record<string, VersionShape>): Converter {
  const hubShape = versions[hub];
  if (!hubShape) throw new Error(`the hub version ${hub} has no shape`);
  const shapeOf = (apiVersion: unknown): [string, VersionShape] => {
    const [g, v = ''] = typeof apiVersion === 'string' ? apiVersion.split('/') : [];
    const shape = g === group ? versions[v] : undefined;
    if (!shape) throw new Error(`apiVersion ${String(apiVersion)} is not one vmop serves for ${group}`);
    return [v, shape];
  };
  const toHub = (obj: JsonObject): JsonObject => {
    const [v, shape] = shapeOf(obj.apiVersion);
    if (v === hub) return obj;
    const body = hubBody(obj, shape, hubShape);
    graft(body, readLost(annotationsOf(obj)?.[CONVERSION_ANNOTATION]));
    return withAnnotation(withBody(obj, body, `${group}/${hub}`), undefined);
  };
  const fromHub = (obj: JsonObject, version: string): JsonObject => {
    const [, shape] = shapeOf(`${group}/${version}`);
    if (version === hub) return obj;
    const full = bodyOf(obj);
    const body = bodyOf(obj);
    move(body, shape.moves, false);
    const spoke = prune(body, shape.schema) as JsonObject;
    const lost: Lost[] = [];
    lostParts(full, hubBody(spoke, shape, hubShape), hubShape.schema, [], lost);
    const out = withBody(obj, spoke, `${group}/${version}`);
    return withAnnotation(out, lost.length > 0 ? JSON.stringify(lost) : undefined);
  };
  return {
    toHub,
    fromHub,
    convert: (obj, apiVersion) => {
      const [v] = shapeOf(apiVersion);
      if (obj.apiVersion === apiVersion) return obj;
      return fromHub(toHub(obj), v);
    },
  };
}
