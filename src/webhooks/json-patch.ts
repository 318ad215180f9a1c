// RFC 6902 JSON patches that turn one JSON document into another: objects are compared key by key, anything
// else (arrays included) is replaced whole, so every op's parent exists when the API server applies it.
import { isPlainObject } from '../api/schema.js';
import type { JSONPatchOp } from './admission.js';

function escape(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => equal(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return false;
}

/** The ops that turn `from` into `to` (both JSON values; `from` at `path` must be an object to descend). */
export function diff(from: unknown, to: unknown, path = ''): JSONPatchOp[] {
  if (equal(from, to)) return [];
  if (!isPlainObject(from) || !isPlainObject(to)) return [{ op: 'replace', path, value: to }];
  const ops: JSONPatchOp[] = [];
  for (const key of Object.keys(from)) {
    if (!(key in to) || to[key] === undefined) ops.push({ op: 'remove', path: `${path}/${escape(key)}` });
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    const child = `${path}/${escape(key)}`;
    if (!(key in from) || from[key] === undefined) ops.push({ op: 'add', path: child, value });
    else ops.push(...diff(from[key], value, child));
  }
  return ops;
}
