import { applyDecorators, PipeTransform } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';
import { AppException } from '@troupe/common';
import { z } from 'zod';

/** Validates and parses a body or query with a zod schema; problems become a 400 naming each field. */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    throw AppException.validation(
      result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
    );
  }
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** Documents a zod-validated body in the OpenAPI document. */
export const ApiZodBody = (schema: z.ZodType): MethodDecorator => ApiBody({ schema: jsonSchema(schema) });

/** Documents each property of a zod-validated query object in the OpenAPI document. */
export function ApiZodQuery(schema: z.ZodObject): MethodDecorator {
  const props = (jsonSchema(schema).properties ?? {}) as Record<string, Record<string, unknown>>;
  return applyDecorators(
    ...Object.entries(props).map(([name, s]) => ApiQuery({ name, required: false, schema: s })),
  );
}

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export type PageParams = z.output<typeof PageQuery>;
