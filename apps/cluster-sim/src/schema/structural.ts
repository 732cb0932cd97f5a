// A small OpenAPI v3 structural-schema engine, as the API server runs it for custom resources:
// prune unknown fields, drop nulls, apply defaults (normalize), then validate.

import { fieldErr, type FieldError } from '../api/errors';
import { deepEqual, isObject } from '../util/json';

export interface JSONSchemaProps {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  default?: unknown;
  nullable?: boolean;
  anyOf?: JSONSchemaProps[];
  allOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
}

export interface NormalizeResult<T> {
  value: T;
  /** Paths of fields the schema does not declare (pruned). */
  unknownFields: string[];
}

const ROOT_META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function cloneJson<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Prunes unknown fields, drops non-nullable nulls and applies defaults. Does not mutate `value`. */
export function normalize<T>(value: T, schema: JSONSchemaProps, root = true): NormalizeResult<T> {
  const unknownFields: string[] = [];
  const out = normalizeNode(value, schema, '', unknownFields, root) as T;
  return { value: out, unknownFields };
}

function normalizeNode(
  value: unknown,
  schema: JSONSchemaProps,
  path: string,
  unknown: string[],
  root: boolean,
): unknown {
  if (isObject(value)) {
    const props = schema.properties;
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    const additional = schema.additionalProperties;
    // A map without declared fields (free-form, preserve-unknown-fields): kept as it is.
    if (!props && !isObject(additional)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined) continue;
      if (root && ROOT_META_FIELDS.has(key)) {
        out[key] = child;
        continue;
      }
      const childSchema = props?.[key] ?? (isObject(additional) ? additional : undefined);
      if (childSchema) {
        if (child === null && childSchema.nullable !== true) continue;
        out[key] = normalizeNode(child, childSchema, join(path, key), unknown, false);
      } else if (preserve || additional === true) {
        out[key] = child;
      } else {
        unknown.push(join(path, key));
      }
    }
    if (props) {
      for (const [key, childSchema] of Object.entries(props)) {
        if (out[key] === undefined && childSchema.default !== undefined) {
          out[key] = normalizeNode(cloneJson(childSchema.default), childSchema, join(path, key), [], false);
        }
      }
    }
    return out;
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.map((item, i) =>
      item === null && items.nullable !== true
        ? item
        : normalizeNode(item, items, `${path}[${i}]`, unknown, false),
    );
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return 'object';
}

function typeMatches(value: unknown, type: string): boolean {
  const actual = typeName(value);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return actual === type;
}

const regexCache = new Map<string, RegExp | null>();
function compile(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = null;
    }
    regexCache.set(pattern, re);
  }
  return re;
}

/** Validates a normalized value. Paths are relative to `path` (e.g. "spec.replicas"). */
export function validate(value: unknown, schema: JSONSchemaProps, path = '', root = true): FieldError[] {
  const errors: FieldError[] = [];
  validateNode(value, schema, path, errors, root);
  return errors;
}

function validateNode(
  value: unknown,
  schema: JSONSchemaProps,
  path: string,
  errors: FieldError[],
  root: boolean,
): void {
  if (value === null) {
    if (schema.nullable === true) return;
    if (schema.type) {
      errors.push(
        fieldErr.typeInvalid(path, 'null', `${path} in body must be of type ${schema.type}: "null"`),
      );
    }
    return;
  }
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (intOrString) {
    const t = typeName(value);
    if (t !== 'integer' && t !== 'string') {
      errors.push(fieldErr.typeInvalid(path, t, `${path} in body must be of type integer,string: "${t}"`));
      return;
    }
  } else if (schema.type && !typeMatches(value, schema.type)) {
    const t = typeName(value);
    errors.push(fieldErr.typeInvalid(path, t, `${path} in body must be of type ${schema.type}: "${t}"`));
    return;
  } else if (!schema.type && schema.anyOf && schema.anyOf.every((s) => s.type)) {
    if (!schema.anyOf.some((s) => typeMatches(value, s.type as string))) {
      const t = typeName(value);
      const types = schema.anyOf.map((s) => s.type).join(',');
      errors.push(fieldErr.typeInvalid(path, t, `${path} in body must be of type ${types}: "${t}"`));
      return;
    }
  }

  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) {
    errors.push(fieldErr.notSupported(path, value, schema.enum));
  }

  if (typeof value === 'number') {
    if (schema.minimum !== undefined) {
      const bad = schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum;
      if (bad) {
        const rel = schema.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
        errors.push(fieldErr.invalid(path, value, `${path} in body should be ${rel} ${schema.minimum}`));
      }
    }
    if (schema.maximum !== undefined) {
      const bad = schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum;
      if (bad) {
        const rel = schema.exclusiveMaximum ? 'less than' : 'less than or equal to';
        errors.push(fieldErr.invalid(path, value, `${path} in body should be ${rel} ${schema.maximum}`));
      }
    }
  }

  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) {
      errors.push(fieldErr.tooLong(path, schema.maxLength));
    }
    if (schema.minLength !== undefined && [...value].length < schema.minLength) {
      errors.push(
        fieldErr.invalid(path, value, `${path} in body should be at least ${schema.minLength} chars long`),
      );
    }
    if (schema.pattern !== undefined) {
      const re = compile(schema.pattern);
      if (re && !re.test(value)) {
        errors.push(fieldErr.invalid(path, value, `${path} in body should match '${schema.pattern}'`));
      }
    }
  }

  if (isObject(value)) {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined) errors.push(fieldErr.required(join(path, key)));
    }
    const count = Object.keys(value).length;
    if (schema.maxProperties !== undefined && count > schema.maxProperties) {
      errors.push(fieldErr.tooMany(path, count, schema.maxProperties));
    }
    if (schema.minProperties !== undefined && count < schema.minProperties) {
      errors.push(
        fieldErr.invalid(
          path,
          count,
          `${path} in body should have at least ${schema.minProperties} properties`,
        ),
      );
    }
    const additional = schema.additionalProperties;
    for (const [key, child] of Object.entries(value)) {
      if (root && ROOT_META_FIELDS.has(key)) continue;
      const childSchema = schema.properties?.[key] ?? (isObject(additional) ? additional : undefined);
      if (childSchema && child !== undefined)
        validateNode(child, childSchema, join(path, key), errors, false);
    }
  }

  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      errors.push(fieldErr.tooMany(path, value.length, schema.maxItems));
    }
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      errors.push(
        fieldErr.invalid(path, value.length, `${path} in body should have at least ${schema.minItems} items`),
      );
    }
    if (schema.items) {
      value.forEach((item, i) =>
        validateNode(item, schema.items as JSONSchemaProps, `${path}[${i}]`, errors, false),
      );
    }
    const listType = schema['x-kubernetes-list-type'];
    if (listType === 'map' && schema['x-kubernetes-list-map-keys']) {
      const keys = schema['x-kubernetes-list-map-keys'];
      const seen = new Set<string>();
      value.forEach((item, i) => {
        if (!isObject(item)) return;
        const keyObj: Record<string, unknown> = {};
        for (const k of keys) if (item[k] !== undefined) keyObj[k] = item[k];
        const sig = JSON.stringify(keyObj);
        if (seen.has(sig)) errors.push(fieldErr.duplicate(`${path}[${i}]`, keyObj));
        seen.add(sig);
      });
    } else if (listType === 'set') {
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const sig = JSON.stringify(item);
        if (seen.has(sig)) errors.push(fieldErr.duplicate(`${path}[${i}]`, item));
        seen.add(sig);
      });
    }
  }
}
