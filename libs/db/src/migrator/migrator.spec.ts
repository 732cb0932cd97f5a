// Runs the WASM schema engine against the local PostgreSQL (127.0.0.1:5432, user postgres, trust auth).
// Every test works in its own scratch database, dropped at the end.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, checkDrift, createMigration, findRepoRoot, resolveMigration } from './index';

const SERVER_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const ROOT = findRepoRoot(__dirname);
const SCHEMA = path.join(ROOT, 'prisma', 'schema.prisma');
const MIGRATIONS = path.join(ROOT, 'prisma', 'migrations');
const EXTRA_MODEL = '\nmodel Extra {\n  id   Int    @id\n  body String\n\n  @@map("extras")\n}\n';

const databases: string[] = [];
const tempDirs: string[] = [];

function urlOf(database: string): string {
  return `postgresql://postgres@127.0.0.1:5432/${database}`;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function scratchDatabase(): Promise<string> {
  const name = `migrator_spec_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await withClient(SERVER_URL, (c) => c.query(`CREATE DATABASE "${name}"`));
  databases.push(name);
  return urlOf(name);
}

async function tables(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const res = await c.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    return res.rows.map((r) => r.table_name);
  });
}

/** A temp dir with a copy of the schema (plus `extra`) and of the migrations folder. */
function tempProject(extra = ''): { schemaPath: string; migrationsDir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrator-spec-'));
  tempDirs.push(dir);
  const schemaPath = path.join(dir, 'schema.prisma');
  fs.writeFileSync(schemaPath, fs.readFileSync(SCHEMA, 'utf8') + extra);
  const migrationsDir = path.join(dir, 'migrations');
  fs.cpSync(MIGRATIONS, migrationsDir, { recursive: true });
  return { schemaPath, migrationsDir };
}

function repoMigrations(): string[] {
  return fs
    .readdirSync(MIGRATIONS, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

beforeAll(async () => {
  // Fail loudly (not skip) when the database server is missing.
  await withClient(SERVER_URL, (c) => c.query('SELECT 1'));
});

afterAll(async () => {
  await withClient(SERVER_URL, async (c) => {
    for (const name of databases) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('migrator (WASM schema engine)', { timeout: 120_000 }, () => {
  it('has the init migration in prisma/migrations', () => {
    expect(repoMigrations().some((m) => m.endsWith('_init'))).toBe(true);
    expect(fs.readFileSync(path.join(MIGRATIONS, 'migration_lock.toml'), 'utf8')).toMatch(
      /provider = "postgresql"/,
    );
  });

  it('migrates an empty database up, then applies nothing the second time', async () => {
    const url = await scratchDatabase();
    expect(await tables(url)).toEqual([]);

    const applied = await applyMigrations(url);
    expect(applied).toEqual(repoMigrations());
    expect(await tables(url)).toEqual(expect.arrayContaining(['_prisma_migrations', 'api_keys', 'projects']));
    const rows = await withClient(url, (c) =>
      c.query<{ migration_name: string; finished_at: Date | null }>(
        'SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name',
      ),
    );
    expect(rows.rows.map((r) => r.migration_name)).toEqual(repoMigrations());
    expect(rows.rows.every((r) => r.finished_at !== null)).toBe(true);

    expect(await applyMigrations(url)).toEqual([]);
  });

  it('finds no drift for the real schema', async () => {
    const result = await checkDrift(SERVER_URL);
    expect(result).toEqual({ drift: false, sql: '' });
  });

  it('detects drift when the schema has a model no migration creates', async () => {
    const project = tempProject(EXTRA_MODEL);
    const result = await checkDrift(SERVER_URL, project);
    expect(result.drift).toBe(true);
    expect(result.sql).toContain('CREATE TABLE "extras"');
    expect(result.sql).not.toContain('"projects"');
  });

  it('creates a migration for a schema change, applies it, and then has nothing to create', async () => {
    const url = await scratchDatabase();
    const project = tempProject(EXTRA_MODEL);

    const dir = await createMigration(url, 'Add extras', project);
    expect(dir).not.toBeNull();
    expect(path.dirname(dir ?? '')).toBe(project.migrationsDir);
    expect(path.basename(dir ?? '')).toMatch(/^\d{14}_add_extras$/);
    const sql = fs.readFileSync(path.join(dir ?? '', 'migration.sql'), 'utf8');
    expect(sql).toContain('CREATE TABLE "extras"');

    // The pending repo migrations and the new one are all applied.
    expect(await tables(url)).toEqual(expect.arrayContaining(['api_keys', 'extras', 'projects']));
    expect(await applyMigrations(url, project)).toEqual([]);
    expect(await checkDrift(SERVER_URL, project)).toEqual({ drift: false, sql: '' });
    expect(await createMigration(url, 'again', project)).toBeNull();

    // The new migration also applies on a fresh database.
    const fresh = await scratchDatabase();
    expect(await applyMigrations(fresh, project)).toEqual([...repoMigrations(), path.basename(dir ?? '')]);
    expect(await tables(fresh)).toContain('extras');
  });

  it('creates the first migration and the lock file in an empty migrations folder', async () => {
    const url = await scratchDatabase();
    const project = tempProject();
    fs.rmSync(project.migrationsDir, { recursive: true });

    const dir = await createMigration(url, 'init', project);
    expect(fs.readFileSync(path.join(dir ?? '', 'migration.sql'), 'utf8')).toContain(
      'CREATE TABLE "projects"',
    );
    expect(fs.readFileSync(path.join(project.migrationsDir, 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    );
  });

  it('sends migration scripts whole ($$ bodies with semicolons)', async () => {
    const url = await scratchDatabase();
    const project = tempProject();
    const name = '29990101000000_function';
    fs.mkdirSync(path.join(project.migrationsDir, name));
    fs.writeFileSync(
      path.join(project.migrationsDir, name, 'migration.sql'),
      `CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;
CREATE TRIGGER projects_touch BEFORE UPDATE ON "projects" FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
`,
    );
    expect(await applyMigrations(url, project)).toContain(name);
    const fn = await withClient(url, (c) =>
      c.query("SELECT 1 FROM pg_proc WHERE proname = 'touch_updated_at'"),
    );
    expect(fn.rowCount).toBe(1);
    // The shadow database replays it too.
    expect((await checkDrift(SERVER_URL, project)).drift).toBe(false);
  });

  it('reports a failing migration with its name and the PostgreSQL error, and recovers after resolve', async () => {
    const url = await scratchDatabase();
    const project = tempProject();
    const name = '29990101000000_broken';
    const file = path.join(project.migrationsDir, name, 'migration.sql');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, 'CREATE TABLE "a" (id int);\nSELECT "x" FROM "nope";\n');

    const failure = await applyMigrations(url, project).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain(name);
    expect((failure as Error).message).toContain(
      'PostgreSQL error 42P01 at line 2: relation "nope" does not exist',
    );
    // The whole script ran in one go and failed: deploy refuses until the failure is resolved.
    await expect(applyMigrations(url, project)).rejects.toThrow(
      /29990101000000_broken failed in a previous run/,
    );

    fs.writeFileSync(file, 'CREATE TABLE IF NOT EXISTS "a" (id int);\n');
    await resolveMigration(url, name, 'rolled-back', project);
    expect(await applyMigrations(url, project)).toEqual([name]);
    expect(await tables(url)).toContain('a');
  });

  it('refuses to create a migration when the database drifted from the history', async () => {
    const url = await scratchDatabase();
    const project = tempProject(EXTRA_MODEL);
    await applyMigrations(url, project);
    await withClient(url, (c) => c.query('CREATE TABLE "stray" (id int)'));
    await expect(createMigration(url, 'extras', project)).rejects.toThrow(
      /does not match the migration history/,
    );
    expect(fs.readdirSync(project.migrationsDir).filter((m) => m.endsWith('_extras'))).toEqual([]);
  });

  it('explains an unreachable server', async () => {
    await expect(applyMigrations('postgresql://postgres@127.0.0.1:1/none')).rejects.toThrow(
      /reach database server/,
    );
  });
});
