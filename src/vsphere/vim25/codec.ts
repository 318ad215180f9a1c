// vim25 values to SOAP XML and back. A data object is a plain object tagged with `_typeName` (as in VM
// Operator's VirtualMachineClass configSpec JSON); a managed object reference is
// `{ _typeName: 'ManagedObjectReference', type, value }`. Elements follow the schema's property order, and
// `xsi:type` is written wherever the value's type is not the declared one, so subtypes such as VirtualE1000
// in a VirtualDevice slot survive the trip.
import { escapeXML, type XMLElement } from '../xml.js';
import { isKnownType, isSubtype, properties, property } from './metadata.js';

export type VimValue = string | number | boolean | VimObject | VimValue[];
export interface VimObject {
  _typeName?: string;
  [key: string]: unknown;
}

export interface MoRef {
  _typeName?: 'ManagedObjectReference';
  type: string;
  value: string;
}

export function moRef(type: string, value: string): MoRef {
  return { _typeName: 'ManagedObjectReference', type, value };
}

export class VimEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VimEncodeError';
  }
}

const XSD_NUMBER = new Set(['xsd:int', 'xsd:long', 'xsd:short', 'xsd:byte', 'xsd:float', 'xsd:double']);
const PRIMITIVE_ALIASES: Record<string, string> = {
  string: 'xsd:string',
  int: 'xsd:int',
  long: 'xsd:long',
  short: 'xsd:short',
  byte: 'xsd:byte',
  float: 'xsd:float',
  double: 'xsd:double',
  boolean: 'xsd:boolean',
  dateTime: 'xsd:dateTime',
  base64Binary: 'xsd:base64Binary',
};

function isObject(v: unknown): v is VimObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function primitiveText(value: unknown, type: string, path: string): string {
  switch (type) {
    case 'xsd:boolean':
      if (typeof value !== 'boolean')
        throw new VimEncodeError(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
      return value ? 'true' : 'false';
    case 'xsd:int':
    case 'xsd:long':
    case 'xsd:short':
    case 'xsd:byte':
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw new VimEncodeError(`${path}: expected an integer, got ${JSON.stringify(value)}`);
      return String(value);
    case 'xsd:float':
    case 'xsd:double':
      if (typeof value !== 'number')
        throw new VimEncodeError(`${path}: expected a number, got ${JSON.stringify(value)}`);
      return String(value);
    default:
      if (typeof value !== 'string')
        throw new VimEncodeError(`${path}: expected a string, got ${JSON.stringify(value)}`);
      return escapeXML(value);
  }
}

/** The xsd type of a bare value in an `xsd:anyType` slot. */
function anyTypeOf(value: unknown): string {
  if (typeof value === 'boolean') return 'xsd:boolean';
  if (typeof value === 'number')
    return Number.isInteger(value) ? (Math.abs(value) < 2 ** 31 ? 'xsd:int' : 'xsd:long') : 'xsd:double';
  return 'xsd:string';
}

/** Encodes `value` as element `name` of declared type `declared`. */
export function encodeElement(name: string, value: unknown, declared: string, path = name): string {
  if (value === undefined || value === null) return '';
  // govmomi's JSON form of a typed primitive in an anyType slot: {_typeName: 'int', _value: 5}.
  if (isObject(value) && '_value' in value && typeof value._typeName === 'string') {
    const t = PRIMITIVE_ALIASES[value._typeName] ?? value._typeName;
    if (t.startsWith('ArrayOf')) return encodeArrayOf(name, t, value._value, path);
    return `<${name} xsi:type="${t}">${primitiveText(value._value, t, path)}</${name}>`;
  }
  if (declared === 'xsd:anyType' && !isObject(value)) {
    const t = anyTypeOf(value);
    return `<${name} xsi:type="${t}">${primitiveText(value, t, path)}</${name}>`;
  }
  if (declared.startsWith('xsd:')) return `<${name}>${primitiveText(value, declared, path)}</${name}>`;
  if (!isObject(value))
    throw new VimEncodeError(`${path}: expected a ${declared} object, got ${JSON.stringify(value)}`);
  const actual = typeof value._typeName === 'string' ? value._typeName : declared;
  if (actual === 'ManagedObjectReference') {
    if (typeof value.type !== 'string' || typeof value.value !== 'string') {
      throw new VimEncodeError(`${path}: a ManagedObjectReference needs string "type" and "value"`);
    }
    const xsi = declared !== 'ManagedObjectReference' ? ' xsi:type="ManagedObjectReference"' : '';
    return `<${name}${xsi} type="${escapeXML(value.type)}">${escapeXML(value.value)}</${name}>`;
  }
  if (!isKnownType(actual)) throw new VimEncodeError(`${path}: unknown vim25 type "${actual}"`);
  if (declared !== 'xsd:anyType' && actual !== declared && isKnownType(declared) && !isSubtype(actual, declared)) {
    throw new VimEncodeError(`${path}: ${actual} is not a ${declared}`);
  }
  for (const key of Object.keys(value)) {
    if (key !== '_typeName' && value[key] !== undefined && !property(actual, key)) {
      throw new VimEncodeError(`${path}: ${actual} has no property "${key}"`);
    }
  }
  const xsi = actual !== declared ? ` xsi:type="${actual}"` : '';
  let body = '';
  for (const p of properties(actual)) {
    const v = value[p.name];
    if (v === undefined || v === null) continue;
    const childPath = `${path}.${p.name}`;
    if (p.array) {
      if (!Array.isArray(v)) throw new VimEncodeError(`${childPath}: expected an array`);
      v.forEach((item, i) => (body += encodeElement(p.name, item, p.type, `${childPath}[${i}]`)));
    } else body += encodeElement(p.name, v, p.type, childPath);
  }
  return `<${name}${xsi}>${body}</${name}>`;
}

/**
 * A data object as a standalone vim25 XML document (the form vCenter takes for an OVF deploy's
 * vm_config_spec): root element `obj` with the type in xsi:type and the namespaces declared on it.
 */
export function encodeDocument(value: VimObject, type: string): string {
  const inner = encodeElement('obj', { ...value, _typeName: type }, type);
  return inner.replace(
    /^<obj>/,
    `<obj xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="${type}">`,
  );
}

function encodeArrayOf(name: string, arrayType: string, items: unknown, path: string): string {
  if (!Array.isArray(items)) throw new VimEncodeError(`${path}: ${arrayType} needs an array in _value`);
  const itemType = arrayType.slice('ArrayOf'.length);
  const declared = PRIMITIVE_ALIASES[itemType.charAt(0).toLowerCase() + itemType.slice(1)] ?? itemType;
  const tag = itemType.charAt(0).toLowerCase() + itemType.slice(1);
  const body = items.map((item, i) => encodeElement(tag, item, declared, `${path}[${i}]`)).join('');
  return `<${name} xsi:type="${arrayType}">${body}</${name}>`;
}

function xsiType(el: XMLElement): string | undefined {
  let t = el.attrs['xsi:type'];
  if (t === undefined) {
    for (const k in el.attrs) if (k.endsWith(':type')) t = el.attrs[k];
  }
  if (!t) return undefined;
  const [prefix, local] = t.includes(':') ? (t.split(':') as [string, string]) : ['', t];
  return prefix === 'xsd' || prefix === 'xs' ? `xsd:${local}` : local;
}

function decodePrimitive(text: string, type: string): string | number | boolean {
  if (type === 'xsd:boolean') return text === 'true' || text === '1';
  if (XSD_NUMBER.has(type)) return Number(text);
  return text;
}

/** Decodes element `el` whose declared type is `declared`. */
export function decodeElement(el: XMLElement, declared: string): unknown {
  const type = xsiType(el) ?? declared;
  if (type === 'ManagedObjectReference')
    return { _typeName: 'ManagedObjectReference', type: el.attrs.type ?? '', value: el.text };
  if (type.startsWith('xsd:')) {
    if (type === 'xsd:anyType') return el.children.length > 0 ? decodeUnknown(el, undefined) : el.text;
    return decodePrimitive(el.text, type);
  }
  if (type.startsWith('ArrayOf')) {
    const itemType = type.slice('ArrayOf'.length);
    const item = PRIMITIVE_ALIASES[itemType.charAt(0).toLowerCase() + itemType.slice(1)] ?? itemType;
    return el.children.map((c) => decodeElement(c, item));
  }
  if (!isKnownType(type)) return decodeUnknown(el, type);
  const out: VimObject = { _typeName: type };
  for (const c of el.children) {
    const p = property(type, c.local);
    const v = p ? decodeElement(c, p.type) : decodeUnknown(c, undefined);
    const prev = out[c.local];
    if (p?.array) {
      if (prev === undefined) out[c.local] = [v];
      else (prev as unknown[]).push(v);
    } else if (!p && prev !== undefined) out[c.local] = Array.isArray(prev) ? (prev.push(v), prev) : [prev, v];
    else out[c.local] = v;
  }
  return out;
}

/** A type this client has no metadata for (a newer API): keep its shape and text. */
function decodeUnknown(el: XMLElement, type: string | undefined): unknown {
  if (el.children.length === 0) return el.text;
  const out: VimObject = type ? { _typeName: type } : {};
  for (const c of el.children) {
    const v = decodeElement(c, 'xsd:anyType');
    const prev = out[c.local];
    out[c.local] = prev === undefined ? v : Array.isArray(prev) ? (prev.push(v), prev) : [prev, v];
  }
  return out;
}
