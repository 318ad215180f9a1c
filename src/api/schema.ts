// A small schema language: each API type is written once with these builders, and from that one definition
// come its TypeScript type (Infer), its runtime check (validate) and its CRD openAPIV3Schema (toOpenAPI).
// It only emits structural schemas: no $ref, const, patternProperties or nullable unions.

export interface FieldError {
  /** Dotted field path, e.g. `spec.network.interfaces[0].name`. */
  field: string;
  /** One of the API server's field error kinds. */
  type: 'Required' | 'Invalid' | 'NotSupported' | 'TypeInvalid' | 'Forbidden' | 'Duplicate' | 'TooMany' | 'TooLong';
  /** The offending value, when there is one to show. */
  value?: unknown;
  /** What rule was broken, phrased for the user. */
  detail: string;
}

/** An OpenAPI v3 schema as a CRD accepts it (a subset of JSONSchemaProps). */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps | boolean;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  minItems?: number;
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-embedded-resource'?: boolean;
}

export interface Options {
  description?: string;
}

/** A schema node; T is the TypeScript type of values it accepts. */
export abstract class Schema<T> {
  declare readonly __type: T;
  constructor(readonly opts: Options = {}) {}
  abstract toOpenAPI(): JSONSchemaProps;
  /** Appends an error for every rule `value` breaks; `path` names the value. */
  abstract check(value: unknown, path: string, errors: FieldError[]): void;

  protected base(extra: JSONSchemaProps): JSONSchemaProps {
    return this.opts.description ? { description: this.opts.description, ...extra } : extra;
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function typeError(path: string, value: unknown, want: string, errors: FieldError[]): void {
  errors.push({ field: path, type: 'TypeInvalid', value, detail: `must be of type ${want}, not ${typeName(value)}` });
}

export interface StringOptions extends Options {
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  default?: string;
}

class StringSchema<T extends string = string> extends Schema<T> {
  constructor(readonly sopts: StringOptions = {}) {
    super(sopts);
  }
  toOpenAPI(): JSONSchemaProps {
    const { pattern, format, minLength, maxLength } = this.sopts;
    return this.base({
      type: 'string',
      ...(format !== undefined && { format }),
      ...(pattern !== undefined && { pattern }),
      ...(minLength !== undefined && { minLength }),
      ...(maxLength !== undefined && { maxLength }),
      ...(this.sopts.default !== undefined && { default: this.sopts.default }),
    });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (typeof value !== 'string') return typeError(path, value, 'string', errors);
    const { pattern, minLength, maxLength } = this.sopts;
    if (pattern !== undefined && !new RegExp(pattern, 'u').test(value)) {
      errors.push({ field: path, type: 'Invalid', value, detail: `should match '${pattern}'` });
    }
    if (minLength !== undefined && value.length < minLength) {
      errors.push({ field: path, type: 'Invalid', value, detail: `should be at least ${minLength} chars long` });
    }
    if (maxLength !== undefined && value.length > maxLength) {
      errors.push({ field: path, type: 'TooLong', value, detail: `may not be more than ${maxLength} bytes` });
    }
  }
}

class EnumSchema<T extends string> extends Schema<T> {
  constructor(
    readonly values: readonly T[],
    readonly eopts: Options & { default?: T } = {},
  ) {
    super(eopts);
  }
  toOpenAPI(): JSONSchemaProps {
    return this.base({
      type: 'string',
      enum: [...this.values],
      ...(this.eopts.default !== undefined && { default: this.eopts.default }),
    });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (typeof value !== 'string') return typeError(path, value, 'string', errors);
    if (!(this.values as readonly string[]).includes(value)) {
      errors.push({
        field: path,
        type: 'NotSupported',
        value,
        detail: `supported values: ${this.values.map((v) => JSON.stringify(v)).join(', ')}`,
      });
    }
  }
}

export interface NumberOptions extends Options {
  minimum?: number;
  maximum?: number;
  default?: number;
}

class IntegerSchema extends Schema<number> {
  constructor(
    readonly format: 'int32' | 'int64',
    readonly nopts: NumberOptions = {},
  ) {
    super(nopts);
  }
  toOpenAPI(): JSONSchemaProps {
    const { minimum, maximum } = this.nopts;
    return this.base({
      type: 'integer',
      format: this.format,
      ...(minimum !== undefined && { minimum }),
      ...(maximum !== undefined && { maximum }),
      ...(this.nopts.default !== undefined && { default: this.nopts.default }),
    });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (typeof value !== 'number' || !Number.isInteger(value)) return typeError(path, value, 'integer', errors);
    const { minimum, maximum } = this.nopts;
    if (minimum !== undefined && value < minimum) {
      errors.push({ field: path, type: 'Invalid', value, detail: `should be greater than or equal to ${minimum}` });
    }
    if (maximum !== undefined && value > maximum) {
      errors.push({ field: path, type: 'Invalid', value, detail: `should be less than or equal to ${maximum}` });
    }
  }
}

class BooleanSchema extends Schema<boolean> {
  constructor(readonly bopts: Options & { default?: boolean } = {}) {
    super(bopts);
  }
  toOpenAPI(): JSONSchemaProps {
    return this.base({ type: 'boolean', ...(this.bopts.default !== undefined && { default: this.bopts.default }) });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (typeof value !== 'boolean') typeError(path, value, 'boolean', errors);
  }
}

/** Kubernetes resource quantities, e.g. `4Gi`, `500m`, `2`. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

class QuantitySchema extends Schema<string | number> {
  toOpenAPI(): JSONSchemaProps {
    return this.base({
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: QUANTITY_PATTERN,
      'x-kubernetes-int-or-string': true,
    });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (typeof value === 'number') return;
    if (typeof value !== 'string') return typeError(path, value, 'integer or string', errors);
    if (!new RegExp(QUANTITY_PATTERN).test(value)) {
      errors.push({ field: path, type: 'Invalid', value, detail: `should match '${QUANTITY_PATTERN}'` });
    }
  }
}

class IntOrStringSchema extends Schema<string | number> {
  toOpenAPI(): JSONSchemaProps {
    return this.base({ anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (typeof value !== 'number' && typeof value !== 'string') typeError(path, value, 'integer or string', errors);
  }
}

export interface ArrayOptions extends Options {
  maxItems?: number;
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: string[];
}

class ArraySchema<T> extends Schema<T[]> {
  constructor(
    readonly item: Schema<T>,
    readonly aopts: ArrayOptions = {},
  ) {
    super(aopts);
  }
  toOpenAPI(): JSONSchemaProps {
    const { maxItems, listType, listMapKeys } = this.aopts;
    return this.base({
      type: 'array',
      items: this.item.toOpenAPI(),
      ...(maxItems !== undefined && { maxItems }),
      ...(listType !== undefined && { 'x-kubernetes-list-type': listType }),
      ...(listMapKeys !== undefined && { 'x-kubernetes-list-map-keys': listMapKeys }),
    });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (!Array.isArray(value)) return typeError(path, value, 'array', errors);
    if (this.aopts.maxItems !== undefined && value.length > this.aopts.maxItems) {
      errors.push({
        field: path,
        type: 'TooMany',
        value: value.length,
        detail: `must have at most ${this.aopts.maxItems} items`,
      });
    }
    value.forEach((v, i) => this.item.check(v, `${path}[${i}]`, errors));
  }
}

class MapSchema<T> extends Schema<Record<string, T>> {
  constructor(
    readonly value: Schema<T>,
    opts: Options = {},
  ) {
    super(opts);
  }
  toOpenAPI(): JSONSchemaProps {
    return this.base({ type: 'object', additionalProperties: this.value.toOpenAPI() });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (!isPlainObject(value)) return typeError(path, value, 'object', errors);
    for (const [k, v] of Object.entries(value)) this.value.check(v, `${path}[${k}]`, errors);
  }
}

/** An object whose content is kept as it is (vim25 JSON, free-form cloud-config parts). */
class FreeFormSchema extends Schema<unknown> {
  constructor(
    readonly objectOnly: boolean,
    opts: Options = {},
  ) {
    super(opts);
  }
  toOpenAPI(): JSONSchemaProps {
    return this.base({
      ...(this.objectOnly && { type: 'object' as const }),
      'x-kubernetes-preserve-unknown-fields': true,
    });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (this.objectOnly && !isPlainObject(value)) typeError(path, value, 'object', errors);
  }
}

/** Marks a property as optional; its TypeScript key becomes `?:`. */
export class Optional<T> extends Schema<T> {
  readonly optional = true as const;
  constructor(readonly inner: Schema<T>) {
    super(inner.opts);
  }
  toOpenAPI(): JSONSchemaProps {
    return this.inner.toOpenAPI();
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    this.inner.check(value, path, errors);
  }
}

type Props = Record<string, Schema<unknown>>;
type OptionalKeys<P extends Props> = { [K in keyof P]: P[K] extends Optional<unknown> ? K : never }[keyof P];
type RequiredKeys<P extends Props> = Exclude<keyof P, OptionalKeys<P>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectType<P extends Props> = Simplify<
  { [K in RequiredKeys<P>]: Infer<P[K]> } & { [K in OptionalKeys<P>]?: Infer<P[K]> }
>;

export interface ObjectOptions extends Options {
  /** Keep fields the schema does not name (the API server prunes them otherwise). */
  preserveUnknownFields?: boolean;
  /** Marks an embedded ObjectMeta-like object. */
  embeddedResource?: boolean;
}

export class ObjectSchema<P extends Props> extends Schema<ObjectType<P>> {
  constructor(
    readonly props: P,
    readonly oopts: ObjectOptions = {},
  ) {
    super(oopts);
  }
  toOpenAPI(): JSONSchemaProps {
    const properties: Record<string, JSONSchemaProps> = {};
    const required: string[] = [];
    for (const [key, schema] of Object.entries(this.props)) {
      properties[key] = schema.toOpenAPI();
      if (!(schema instanceof Optional)) required.push(key);
    }
    return this.base({
      type: 'object',
      ...(Object.keys(properties).length > 0 && { properties }),
      ...(required.length > 0 && { required }),
      ...(this.oopts.preserveUnknownFields && { 'x-kubernetes-preserve-unknown-fields': true }),
    });
  }
  check(value: unknown, path: string, errors: FieldError[]): void {
    if (!isPlainObject(value)) return typeError(path, value, 'object', errors);
    for (const [key, schema] of Object.entries(this.props)) {
      const child = path ? `${path}.${key}` : key;
      const v = value[key];
      if (v === undefined || v === null) {
        if (!(schema instanceof Optional)) errors.push({ field: child, type: 'Required', detail: 'Required value' });
        continue;
      }
      schema.check(v, child, errors);
    }
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks `value` against `schema`; returns the field errors (empty when valid). */
export function validate(schema: Schema<unknown>, value: unknown, path = ''): FieldError[] {
  const errors: FieldError[] = [];
  schema.check(value, path, errors);
  return errors;
}

export const s = {
  string: (o?: StringOptions) => new StringSchema(o),
  enum: <T extends string>(values: readonly T[], o?: Options & { default?: NoInfer<T> }) =>
    new EnumSchema<T>(values, o),
  int32: (o?: NumberOptions) => new IntegerSchema('int32', o),
  int64: (o?: NumberOptions) => new IntegerSchema('int64', o),
  boolean: (o?: Options & { default?: boolean }) => new BooleanSchema(o),
  quantity: (o?: Options) => new QuantitySchema(o),
  intOrString: (o?: Options) => new IntOrStringSchema(o),
  array: <T>(item: Schema<T>, o?: ArrayOptions) => new ArraySchema<T>(item, o),
  map: <T>(value: Schema<T>, o?: Options) => new MapSchema<T>(value, o),
  object: <P extends Props>(props: P, o?: ObjectOptions) => new ObjectSchema<P>(props, o),
  /** Any JSON object, kept unpruned. */
  freeObject: (o?: Options) => new FreeFormSchema(true, o),
  /** Any JSON value, kept unpruned. */
  freeValue: (o?: Options) => new FreeFormSchema(false, o),
  optional: <T>(inner: Schema<T>) => new Optional<T>(inner),
};

/** The properties of an object schema without `keys`: a newer API version that drops or moves a field. */
export function omit<P extends Props, K extends keyof P>(props: P, keys: readonly K[]): Omit<P, K> {
  const out: Record<string, unknown> = { ...props };
  for (const k of keys) delete out[k as string];
  return out as Omit<P, K>;
}
