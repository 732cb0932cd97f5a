import { InvalidArgumentError } from 'commander';

/** Option parsers shared by the commands. */

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** Repeatable option: each occurrence appended. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Repeatable `K=V` option into a record (the value may itself hold `=`). */
export function keyValue(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError(`expected KEY=VALUE, got "${value}"`);
  return { ...(previous ?? {}), [value.slice(0, eq)]: value.slice(eq + 1) };
}
