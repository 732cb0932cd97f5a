import { describe, expect, it } from 'vitest';
import { normalize, validate, type JSONSchemaProps } from './structural';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['template'],
      properties: {
        replicas: { type: 'integer', default: 1, minimum: 0 },
        mode: { type: 'string', enum: ['A', 'B'], default: 'A' },
        surge: {
          anyOf: [{ type: 'integer' }, { type: 'string' }],
          'x-kubernetes-int-or-string': true,
          default: 0,
        },
        name: { type: 'string', pattern: '^[a-z]+$', maxLength: 5 },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
        nullable: { type: 'string', nullable: true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        items: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, v: { type: 'integer', default: 7 } },
          },
        },
        template: { type: 'object', properties: { size: { type: 'integer', default: 1 } } },
      },
    },
  },
};

describe('normalize', () => {
  it('applies defaults, prunes unknown fields, keeps preserved ones and drops nulls', () => {
    const { value, unknownFields } = normalize(
      {
        metadata: { name: 'x', anything: 1 },
        spec: {
          template: {},
          bogus: 1,
          free: { a: { b: 1 } },
          mode: null,
          nullable: null,
          items: [{ name: 'a' }],
        },
      },
      schema,
    );
    expect(unknownFields).toEqual(['spec.bogus']);
    expect(value).toEqual({
      metadata: { name: 'x', anything: 1 },
      spec: {
        replicas: 1,
        mode: 'A',
        surge: 0,
        template: { size: 1 },
        free: { a: { b: 1 } },
        nullable: null,
        items: [{ name: 'a', v: 7 }],
      },
    });
  });
});

describe('validate', () => {
  const check = (spec: Record<string, unknown>): string[] =>
    validate(normalize({ spec: { template: {}, ...spec } }, schema).value, schema).map(
      (e) => `${e.type} ${e.field}: ${e.body}`,
    );

  it.each([
    [
      { replicas: -1 },
      'FieldValueInvalid spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0',
    ],
    [
      { replicas: 1.5 },
      'FieldValueTypeInvalid spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"',
    ],
    [{ mode: 'C' }, 'FieldValueNotSupported spec.mode: Unsupported value: "C": supported values: "A", "B"'],
    [
      { surge: true },
      'FieldValueTypeInvalid spec.surge: Invalid value: "boolean": spec.surge in body must be of type integer,string: "boolean"',
    ],
    [
      { name: 'ABC' },
      'FieldValueInvalid spec.name: Invalid value: "ABC": spec.name in body should match \'^[a-z]+$\'',
    ],
    [{ name: 'abcdef' }, 'FieldValueTooLong spec.name: Too long: may not be more than 5 bytes'],
    [{ tags: ['a', 'b', 'c'] }, 'FieldValueTooMany spec.tags: Too many: 3: must have at most 2 items'],
    [
      { labels: { a: 1 } },
      'FieldValueTypeInvalid spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
    ],
    [
      { items: [{ name: 'a' }, { name: 'a' }] },
      'FieldValueDuplicate spec.items[1]: Duplicate value: {"name":"a"}',
    ],
    [{ items: [{ v: 1 }] }, 'FieldValueRequired spec.items[0].name: Required value'],
  ])('%j', (spec, expected) => {
    expect(check(spec)).toEqual([expected]);
  });

  it('accepts a valid object and reports missing required fields', () => {
    expect(check({ replicas: 0, surge: '25%', name: 'abc' })).toEqual([]);
    expect(validate({ spec: {} }, schema).map((e) => e.field)).toEqual(['spec.template']);
  });
});
