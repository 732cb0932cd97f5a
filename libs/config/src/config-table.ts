import { z } from 'zod';
import { ENV, EnvName } from './env.schema';

function defaultOf(schema: z.ZodType): string {
  const result = schema.safeParse(undefined);
  if (!result.success) return '(required)';
  if (result.data === undefined) return '(unset)';
  const v = Array.isArray(result.data) ? result.data.join(',') : result.data;
  return `\`${String(v)}\``;
}

/** The configuration table of the README, one row per variable of the env schema. */
export function configTable(): string {
  const rows = (Object.keys(ENV) as EnvName[]).map((name) => {
    const entry = ENV[name];
    const secret = 'secret' in entry && entry.secret ? ' Secret.' : '';
    return `| \`${name}\` | ${defaultOf(entry.schema)} | ${entry.doc}${secret} |`;
  });
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
