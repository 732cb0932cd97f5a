// A small validator for Kubernetes structural OpenAPI v3 schemas (what a CRD's openAPIV3Schema is):
// enough to check a rendered object against the upstream CRD the way an API server would, with
// unknown fields reported (as server-side apply with strict field validation does) instead of pruned.
//
// Supported: type, nullable, enum, required, properties, additionalProperties (schema or boolean),
// items, minimum / maximum (and exclusive*), minLength / maxLength, minItems / maxItems,
// minProperties / maxProperties, pattern, format (int32, int64, date-time), anyOf / allOf / oneOf /
// not, x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields, x-kubernetes-embedded-resource,
// x-kubernetes-list-type (set, map with x-kubernetes-list-map-keys). Not supported: CEL
// (x-kubernetes-validations) and defaulting. An object schema with neither properties nor
// additionalProperties (the root `metadata`) accepts anything: the API server validates ObjectMeta itself.

export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  nullable?: boolean;
  default?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: boolean | JSONSchemaProps;
  items?: JSONSchemaProps;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  pattern?: string;
  format?: string;
  anyOf?: JSONSchemaProps[];
  allOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

export interface SchemaError {
  /** Where, e.g. `spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].ports[1].containerPort`. */
  path: string;
  message: string;
}

export interface SchemaValidationOptions {
  /** Path of the value (default: none, i.e. the root). */
  path?: string;
  /** `error` (default): fields the schema does not know are errors; `ignore`: they are not checked. */
  unknownFields?: 'error' | 'ignore';
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const regexCache = new Map<string, RegExp | null>();

function compile(pattern: string): RegExp | null {
  if (!regexCache.has(pattern)) {
    let re: RegExp | null;
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      try {
        re = new RegExp(pattern);
      } catch {
        re = null;
      }
    }
    regexCache.set(pattern, re);
  }
  return regexCache.get(pattern) ?? null;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

const join = (path: string, key: string): string =>
  /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

class Validator {
  readonly errors: SchemaError[] = [];

  constructor(private readonly unknownFields: 'error' | 'ignore') {}

  private err(path: string, message: string): void {
    this.errors.push({ path: path || '<root>', message });
  }

  validate(value: unknown, schema: JSONSchemaProps, path: string): void {
    if (value === null) {
      if (!schema.nullable) this.err(path, 'Invalid value: null: must not be null');
      return;
    }
    if (value === undefined) return;
    const intOrString = schema['x-kubernetes-int-or-string'] === true;
    const actual = typeOf(value);
    if (intOrString) {
      if (actual !== 'integer' && actual !== 'string') {
        this.err(path, `Invalid value: ${show(value)}: must be an integer or a string`);
        return;
      }
    } else if (schema.type) {
      const ok =
        schema.type === 'number' ? actual === 'number' || actual === 'integer' : actual === schema.type;
      if (!ok) {
        this.err(path, `Invalid value: ${show(value)}: must be of type ${schema.type}, not ${actual}`);
        return;
      }
    }

    if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) {
      this.err(
        path,
        `Unsupported value: ${show(value)}: supported values: ${schema.enum.map(show).join(', ')}`,
      );
    }
    if (typeof value === 'number') this.number(value, schema, path);
    if (typeof value === 'string') this.string(value, schema, path);
    if (Array.isArray(value)) this.array(value, schema, path);
    if (isRecord(value)) this.object(value, schema, path);
    this.combinators(value, schema, path, intOrString);
  }

  private number(v: number, s: JSONSchemaProps, path: string): void {
    if (s.format === 'int32' && (v < INT32_MIN || v > INT32_MAX)) {
      this.err(path, `Invalid value: ${v}: must fit in a 32-bit integer`);
    }
    if (s.format === 'int64' && !Number.isSafeInteger(v)) {
      this.err(path, `Invalid value: ${v}: must be a 64-bit integer representable exactly`);
    }
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
      this.err(
        path,
        `Invalid value: ${v}: should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`,
      );
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
      this.err(
        path,
        `Invalid value: ${v}: should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`,
      );
    }
  }

  private string(v: string, s: JSONSchemaProps, path: string): void {
    const length = [...v].length;
    if (s.minLength !== undefined && length < s.minLength) {
      this.err(path, `Invalid value: ${show(v)}: should be at least ${s.minLength} chars long`);
    }
    if (s.maxLength !== undefined && length > s.maxLength) {
      this.err(path, `Too long: may not be more than ${s.maxLength} chars`);
    }
    if (s.pattern !== undefined) {
      const re = compile(s.pattern);
      if (re && !re.test(v)) this.err(path, `Invalid value: ${show(v)}: should match '${s.pattern}'`);
    }
    if (s.format === 'date-time' && !RFC3339.test(v)) {
      this.err(path, `Invalid value: ${show(v)}: must be an RFC 3339 date-time`);
    }
  }

  private array(v: unknown[], s: JSONSchemaProps, path: string): void {
    if (s.minItems !== undefined && v.length < s.minItems)
      this.err(path, `should have at least ${s.minItems} items`);
    if (s.maxItems !== undefined && v.length > s.maxItems)
      this.err(path, `Too many: ${v.length}: must have at most ${s.maxItems} items`);
    if (s.items) v.forEach((item, i) => this.validate(item, s.items as JSONSchemaProps, `${path}[${i}]`));
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'set') {
      v.forEach((item, i) => {
        if (v.findIndex((other) => deepEqual(other, item)) < i)
          this.err(`${path}[${i}]`, `Duplicate value: ${show(item)}`);
      });
    } else if (listType === 'map') {
      const keys = s['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Map<string, number>();
      v.forEach((item, i) => {
        if (!isRecord(item)) return;
        const tuple = keys.map((k) => item[k] ?? s.items?.properties?.[k]?.default ?? null);
        const id = JSON.stringify(tuple);
        if (seen.has(id)) {
          const desc = keys.map((k, j) => `"${k}"=${show(tuple[j])}`).join(',');
          this.err(`${path}[${i}]`, `Duplicate value: map[${desc}]`);
        } else seen.set(id, i);
      });
    }
  }

  private object(v: Record<string, unknown>, s: JSONSchemaProps, path: string): void {
    const keys = Object.keys(v);
    for (const r of s.required ?? []) {
      if (v[r] === undefined) this.err(join(path, r), 'Required value');
    }
    if (s.minProperties !== undefined && keys.length < s.minProperties) {
      this.err(path, `should have at least ${s.minProperties} properties`);
    }
    if (s.maxProperties !== undefined && keys.length > s.maxProperties) {
      this.err(path, `should have at most ${s.maxProperties} properties`);
    }
    const props = s.properties;
    const additional = s.additionalProperties;
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
    for (const k of keys) {
      const child = join(path, k);
      if (props && Object.prototype.hasOwnProperty.call(props, k)) {
        this.validate(v[k], props[k], child);
      } else if (isRecord(additional)) {
        this.validate(v[k], additional as JSONSchemaProps, child);
      } else if (additional === false) {
        this.err(child, 'Forbidden: additional properties are not allowed');
      } else if (props && !preserve && additional === undefined && this.unknownFields === 'error') {
        // A structural schema prunes what it does not declare; strict field validation rejects it.
        this.err(child, `unknown field "${k}"`);
      }
    }
    if (s['x-kubernetes-embedded-resource']) {
      for (const k of ['apiVersion', 'kind'])
        if (typeof v[k] !== 'string') this.err(join(path, k), 'Required value');
    }
  }

  private combinators(value: unknown, s: JSONSchemaProps, path: string, intOrString: boolean): void {
    const quiet = (branch: JSONSchemaProps): boolean => {
      const sub = new Validator('ignore');
      sub.validate(value, branch, path);
      return sub.errors.length === 0;
    };
    // For int-or-string the anyOf [integer, string] only documents the two types, checked above.
    if (s.anyOf && !intOrString && !s.anyOf.some(quiet)) {
      this.err(path, `Invalid value: ${show(value)}: must validate against one of the anyOf schemas`);
    }
    for (const branch of s.allOf ?? []) {
      const sub = new Validator('ignore');
      sub.validate(value, branch, path);
      this.errors.push(...sub.errors);
    }
    if (s.oneOf && s.oneOf.filter(quiet).length !== 1) {
      this.err(path, `Invalid value: ${show(value)}: must validate against exactly one of the oneOf schemas`);
    }
    if (s.not && quiet(s.not))
      this.err(path, `Invalid value: ${show(value)}: must not validate against the not schema`);
  }
}

/** Every error of `value` against a structural schema; an empty list means valid. */
export function validateAgainstSchema(
  value: unknown,
  schema: JSONSchemaProps,
  options: SchemaValidationOptions = {},
): SchemaError[] {
  const v = new Validator(options.unknownFields ?? 'error');
  v.validate(value, schema, options.path ?? '');
  return v.errors;
}

/** The openAPIV3Schema of one version of a CustomResourceDefinition (parsed YAML/JSON), or undefined. */
export function crdVersionSchema(crd: unknown, version: string): JSONSchemaProps | undefined {
  if (!isRecord(crd) || !isRecord(crd.spec) || !Array.isArray(crd.spec.versions)) return undefined;
  for (const v of crd.spec.versions) {
    if (isRecord(v) && v.name === version && isRecord(v.schema) && isRecord(v.schema.openAPIV3Schema)) {
      return v.schema.openAPIV3Schema as JSONSchemaProps;
    }
  }
  return undefined;
}

/** `path: message` lines, for test failures and logs. */
export function formatSchemaErrors(errors: readonly SchemaError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}
