import { describe, expect, it } from 'vitest';
import {
  crdVersionSchema,
  formatSchemaErrors,
  validateAgainstSchema,
  type JSONSchemaProps,
} from './crd-schema';

const messages = (value: unknown, schema: JSONSchemaProps): string =>
  formatSchemaErrors(validateAgainstSchema(value, schema));

describe('validateAgainstSchema', () => {
  const table: [string, JSONSchemaProps, unknown, string | RegExp][] = [
    ['integer ok', { type: 'integer' }, 3, ''],
    ['integer refuses a float', { type: 'integer' }, 3.5, /must be of type integer, not number/],
    ['number takes an integer', { type: 'number' }, 3, ''],
    ['string refuses a number', { type: 'string' }, 3, /must be of type string/],
    ['boolean refuses "true"', { type: 'boolean' }, 'true', /must be of type boolean/],
    ['object refuses an array', { type: 'object' }, [], /must be of type object, not array/],
    ['int32 range', { type: 'integer', format: 'int32' }, 2 ** 31, /32-bit/],
    ['int32 lower bound ok', { type: 'integer', format: 'int32' }, -(2 ** 31), ''],
    ['int64 beyond safe integers', { type: 'integer', format: 'int64' }, 2 ** 60, /64-bit/],
    ['minimum', { type: 'integer', minimum: 1 }, 0, /greater than or equal to 1/],
    ['exclusive minimum', { type: 'integer', minimum: 1, exclusiveMinimum: true }, 1, /greater than 1/],
    ['maximum', { type: 'number', maximum: 1 }, 1.5, /less than or equal to 1/],
    ['exclusive maximum', { type: 'number', maximum: 1, exclusiveMaximum: true }, 1, /less than 1/],
    ['enum', { type: 'string', enum: ['A', 'B'] }, 'C', /Unsupported value: "C": supported values: "A", "B"/],
    ['enum ok', { type: 'string', enum: ['A', 'B'] }, 'B', ''],
    ['minLength', { type: 'string', minLength: 2 }, 'a', /at least 2 chars/],
    ['maxLength counts characters, not UTF-16 units', { type: 'string', maxLength: 1 }, '😀', ''],
    ['maxLength', { type: 'string', maxLength: 2 }, 'abc', /may not be more than 2 chars/],
    ['pattern (unanchored, like Go)', { type: 'string', pattern: 'b' }, 'abc', ''],
    ['pattern', { type: 'string', pattern: '^[a-z]+$' }, 'aB', /should match/],
    ['date-time', { type: 'string', format: 'date-time' }, '2025-01-02T03:04:05Z', ''],
    ['bad date-time', { type: 'string', format: 'date-time' }, 'yesterday', /RFC 3339/],
    ['null refused', { type: 'string' }, null, /must not be null/],
    ['null when nullable', { type: 'string', nullable: true }, null, ''],
    [
      'int-or-string: int',
      { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      1,
      '',
    ],
    [
      'int-or-string: string',
      { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      '25%',
      '',
    ],
    ['int-or-string: float', { 'x-kubernetes-int-or-string': true }, 1.5, /integer or a string/],
    [
      'int-or-string: pattern applies to strings only',
      { 'x-kubernetes-int-or-string': true, pattern: '^[0-9]+%$' },
      7,
      '',
    ],
    [
      'int-or-string: pattern on a string',
      { 'x-kubernetes-int-or-string': true, pattern: '^[0-9]+%$' },
      'x',
      /should match/,
    ],
    [
      'required',
      { type: 'object', required: ['a'], properties: { a: { type: 'string' } } },
      {},
      /^a: Required value$/,
    ],
    [
      'unknown field',
      { type: 'object', properties: { a: { type: 'string' } } },
      { b: 1 },
      /^b: unknown field "b"$/,
    ],
    [
      'preserve-unknown-fields',
      { type: 'object', properties: { a: { type: 'string' } }, 'x-kubernetes-preserve-unknown-fields': true },
      { b: 1 },
      '',
    ],
    ['opaque object (no properties)', { type: 'object' }, { anything: { at: ['all'] } }, ''],
    [
      'additionalProperties schema',
      { type: 'object', additionalProperties: { type: 'string' } },
      { a: 'x', b: 2 },
      /^b: .*must be of type string/,
    ],
    [
      'additionalProperties false',
      { type: 'object', additionalProperties: false },
      { a: 1 },
      /^a: Forbidden/,
    ],
    [
      'odd keys are quoted in paths',
      { type: 'object', additionalProperties: { type: 'string' } },
      { 'a/b.c': 1 },
      /^\["a\/b\.c"\]: /,
    ],
    ['items', { type: 'array', items: { type: 'integer' } }, [1, 'x'], /^\[1\]: .*must be of type integer/],
    ['minItems', { type: 'array', minItems: 1 }, [], /at least 1 items/],
    ['maxItems', { type: 'array', maxItems: 1 }, [1, 2], /at most 1 items/],
    [
      'list-type set',
      { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
      ['a', 'b', 'a'],
      /^\[2\]: Duplicate value: "a"$/,
    ],
    [
      'list-type map',
      {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['k'],
        items: { type: 'object', properties: { k: { type: 'string' }, v: { type: 'integer' } } },
      },
      [{ k: 'a', v: 1 }, { k: 'b' }, { k: 'a', v: 2 }],
      /^\[2\]: Duplicate value: map\["k"="a"\]$/,
    ],
    [
      'list-type atomic allows duplicates',
      { type: 'array', 'x-kubernetes-list-type': 'atomic', items: { type: 'string' } },
      ['a', 'a'],
      '',
    ],
    ['anyOf: none matches', { anyOf: [{ type: 'string' }, { type: 'boolean' }] }, 1, /one of the anyOf/],
    ['anyOf: one matches', { anyOf: [{ type: 'string' }, { type: 'boolean' }] }, true, ''],
    ['oneOf: two match', { oneOf: [{ type: 'integer' }, { type: 'number' }] }, 1, /exactly one of the oneOf/],
    [
      'allOf: each applies',
      { allOf: [{ minimum: 1 }, { maximum: 3 }], type: 'integer' },
      4,
      /less than or equal to 3/,
    ],
    ['not', { not: { type: 'string' } }, 'x', /must not validate/],
    [
      'embedded resource needs apiVersion and kind',
      {
        type: 'object',
        'x-kubernetes-embedded-resource': true,
        'x-kubernetes-preserve-unknown-fields': true,
      },
      { metadata: {} },
      /apiVersion: Required value\nkind: Required value/,
    ],
    ['errors at the root are named <root>', { type: 'object' }, 'x', /^<root>: /],
  ];
  it.each(table)('%s', (_name, schema, value, expected) => {
    const out = messages(value, schema);
    if (expected === '') expect(out).toBe('');
    else expect(out).toMatch(expected);
  });

  it('reports nested paths and every error, and can ignore unknown fields', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          required: ['size'],
          properties: {
            size: { type: 'integer' },
            items: { type: 'array', items: { type: 'object', properties: { n: { type: 'string' } } } },
          },
        },
      },
    };
    const value = { spec: { items: [{ n: 1, extra: true }] }, other: 1 };
    expect(validateAgainstSchema(value, schema)).toEqual([
      { path: 'spec.size', message: 'Required value' },
      { path: 'spec.items[0].n', message: 'Invalid value: 1: must be of type string, not integer' },
      { path: 'spec.items[0].extra', message: 'unknown field "extra"' },
      { path: 'other', message: 'unknown field "other"' },
    ]);
    expect(
      validateAgainstSchema(value, schema, { unknownFields: 'ignore', path: 'obj' }).map((e) => e.path),
    ).toEqual(['obj.spec.size', 'obj.spec.items[0].n']);
  });

  it('finds a version schema in a CRD', () => {
    const crd = { spec: { versions: [{ name: 'v1', schema: { openAPIV3Schema: { type: 'object' } } }] } };
    expect(crdVersionSchema(crd, 'v1')).toEqual({ type: 'object' });
    expect(crdVersionSchema(crd, 'v2')).toBeUndefined();
    expect(crdVersionSchema('nonsense', 'v1')).toBeUndefined();
  });
});
