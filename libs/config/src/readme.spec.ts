import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTable } from './config-table';

describe('README configuration table', () => {
  it('is the table generated from the env schema (regenerate: npx tsx scripts/config-table.ts)', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
    expect(readme).toContain(configTable());
  });
});
