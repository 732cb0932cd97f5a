// `prisma migrate deploy`, `prisma migrate dev --name X` and a drift check, run by the WebAssembly schema
// engine (see wasm-engine.ts). Migrations live in the standard prisma/migrations layout.
import fs from 'node:fs';
import path from 'node:path';
import type {
  MigrationDirectory,
  MigrationList,
  SchemaContainer,
  SchemaFilter,
} from '@prisma/schema-engine-wasm';
import { openEngine, type EngineSession } from './wasm-engine';

export interface MigratorOptions {
  /** The Prisma schema: a file, or a folder of .prisma files. Default: `<repo>/prisma/schema.prisma`. */
  schemaPath?: string;
  /** The migrations folder. Default: `<repo>/prisma/migrations`. */
  migrationsDir?: string;
  /** Receives the schema engine's log lines (JSON), e.g. for a --verbose flag. */
  log?: (line: string) => void;
}

export interface DriftResult {
  /** True when the schema has changes that no migration captures. */
  drift: boolean;
  /** The SQL a new migration would need to contain (empty when there is no drift). */
  sql: string;
}

const LOCKFILE = 'migration_lock.toml';
const MIGRATION_FILE = 'migration.sql';
const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

/**
 * The repository root: the first folder, walking up from `start`, that has `prisma/schema.prisma`. Works
 * from the sources (libs/db/src/migrator) and from the build (dist/libs/db/src/migrator).
 */
export function findRepoRoot(start: string = __dirname): string {
  for (const from of [start, process.cwd()]) {
    let dir = path.resolve(from);
    for (;;) {
      if (fs.existsSync(path.join(dir, 'prisma', 'schema.prisma'))) return dir;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(
    `cannot find the repository root (a folder with prisma/schema.prisma) above ${start} or ${process.cwd()}`,
  );
}

function resolvePaths(opts: MigratorOptions): { schemaPath: string; migrationsDir: string } {
  const root = opts.schemaPath && opts.migrationsDir ? '' : findRepoRoot();
  return {
    schemaPath: path.resolve(opts.schemaPath ?? path.join(root, 'prisma', 'schema.prisma')),
    migrationsDir: path.resolve(opts.migrationsDir ?? path.join(root, 'prisma', 'migrations')),
  };
}

/** The schema files, as the engine wants them: one file, or every .prisma file under a folder. */
export async function readSchema(schemaPath: string): Promise<SchemaContainer[]> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(schemaPath);
  } catch {
    throw new Error(`Prisma schema not found: ${schemaPath}`);
  }
  const files = stat.isDirectory()
    ? (await fs.promises.readdir(schemaPath, { recursive: true }))
        .filter((f) => f.endsWith('.prisma'))
        .sort()
        .map((f) => path.join(schemaPath, f))
    : [schemaPath];
  if (files.length === 0) throw new Error(`no .prisma file in ${schemaPath}`);
  return Promise.all(
    files.map(async (file) => ({ path: file, content: await fs.promises.readFile(file, 'utf8') })),
  );
}

/** Reads the migrations folder as the engine wants it (a missing folder is an empty history). */
export async function readMigrations(migrationsDir: string): Promise<MigrationList> {
  const entries = await fs.promises
    .readdir(migrationsDir, { withFileTypes: true })
    .catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
  const migrationDirectories: MigrationDirectory[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const file = path.join(migrationsDir, entry.name, MIGRATION_FILE);
    let content: MigrationDirectory['migrationFile']['content'];
    try {
      content = { tag: 'ok', value: await fs.promises.readFile(file, 'utf8') };
    } catch (err) {
      content = { tag: 'error', value: `cannot read ${file}: ${(err as Error).message}` };
    }
    migrationDirectories.push({ path: entry.name, migrationFile: { path: MIGRATION_FILE, content } });
  }
  const lockContent = await fs.promises
    .readFile(path.join(migrationsDir, LOCKFILE), 'utf8')
    .catch(() => null);
  return {
    baseDir: migrationsDir,
    lockfile: { path: LOCKFILE, content: lockContent },
    migrationDirectories,
    shadowDbInitScript: '',
  };
}

async function withEngine<T>(
  databaseUrl: string,
  opts: MigratorOptions,
  datamodels: SchemaContainer[] | undefined,
  fn: (session: EngineSession) => Promise<T>,
): Promise<T> {
  const session = await openEngine(databaseUrl, {
    datamodels: datamodels?.map((f) => [f.path, f.content]),
    log: opts.log,
  });
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/**
 * Applies the pending migrations of the migrations folder (like `prisma migrate deploy`), creating the
 * `_prisma_migrations` table if needed. Returns the names of the migrations applied now, in order.
 */
export async function applyMigrations(databaseUrl: string, opts: MigratorOptions = {}): Promise<string[]> {
  const { migrationsDir } = resolvePaths(opts);
  const migrationsList = await readMigrations(migrationsDir);
  return withEngine(databaseUrl, opts, undefined, async (s) => {
    const history = await s.call('reading the migration history', (e) =>
      e.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTERS }),
    );
    if (history.failedMigrationNames.length > 0) {
      throw new Error(
        `migration ${history.failedMigrationNames.join(', ')} failed in a previous run: fix the database and ` +
          'the migration, then mark it rolled back (migrate resolve --rolled-back <name>) or applied ' +
          '(--applied <name>) before deploying again',
      );
    }
    if (history.editedMigrationNames.length > 0) {
      // prisma migrate deploy only warns too: the applied version is what the database has.
      opts.log?.(
        JSON.stringify({
          level: 'WARN',
          message: `migrations edited after they were applied: ${history.editedMigrationNames.join(', ')}`,
        }),
      );
    }
    try {
      const out = await s.call('applying migrations', (e) =>
        e.applyMigrations({ migrationsList, filters: NO_FILTERS }),
      );
      return out.appliedMigrationNames;
    } catch (err) {
      // Name the migration that failed: the engine's message does not.
      const after = await s.engine
        .diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTERS })
        .catch(() => undefined);
      const failed = after?.failedMigrationNames ?? [];
      if (failed.length === 0 || !(err instanceof Error)) throw err;
      throw new Error(
        `migration ${failed.join(', ')} failed to apply (recorded as failed in _prisma_migrations: fix it, ` +
          `then mark it rolled back: migrate resolve --rolled-back ${failed[0]}): ${err.message}`,
        { cause: err.cause },
      );
    }
  });
}

/**
 * `prisma migrate resolve`: marks a failed migration as rolled back (so that deploy retries it), or a
 * migration as applied without running it (when its changes were made by hand).
 */
export async function resolveMigration(
  databaseUrl: string,
  migrationName: string,
  as: 'applied' | 'rolled-back',
  opts: MigratorOptions = {},
): Promise<void> {
  const { migrationsDir } = resolvePaths(opts);
  const migrationsList = await readMigrations(migrationsDir);
  if (!migrationsList.migrationDirectories.some((m) => m.path === migrationName)) {
    throw new Error(`no migration ${migrationName} in ${migrationsDir}`);
  }
  await withEngine(databaseUrl, opts, undefined, async (s) => {
    if (as === 'applied') {
      await s.call(`marking ${migrationName} applied`, (e) =>
        e.markMigrationApplied({ migrationName, migrationsList }),
      );
    } else {
      await s.call(`marking ${migrationName} rolled back`, (e) =>
        e.markMigrationRolledBack({ migrationName }),
      );
    }
  });
}

/** Lowercase letters, digits and underscores, as `prisma migrate dev --name` does. */
export function migrationSlug(name: string): string {
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 200);
  if (!slug)
    throw new Error(`invalid migration name ${JSON.stringify(name)}: use letters, digits and underscores`);
  return slug;
}

function lockfileContent(provider: string): string {
  return [
    '# Please do not edit this file manually',
    '# It should be added in your version-control system (e.g., Git)',
    `provider = "${provider}"`,
    '',
  ].join('\n');
}

/**
 * `prisma migrate dev --name <name>`: applies the pending migrations, creates a migration from the diff
 * between the migrations and the schema, and applies it. Returns the new migration's folder, or null when
 * the schema has no changes. Refuses (instead of resetting the database) when the database has drifted
 * from the migration history.
 */
export async function createMigration(
  databaseUrl: string,
  name: string,
  opts: MigratorOptions = {},
): Promise<string | null> {
  const slug = migrationSlug(name);
  const { schemaPath, migrationsDir } = resolvePaths(opts);
  const schema = await readSchema(schemaPath);
  await applyMigrations(databaseUrl, opts);

  // A fresh engine: once applyMigrations applied something, the same engine cannot create a migration.
  const migrationsList = await readMigrations(migrationsDir);
  const created = await withEngine(databaseUrl, opts, schema, async (s) => {
    const diagnostic = await s.call('checking the database against the migration history', (e) =>
      e.devDiagnostic({ migrationsList, filters: NO_FILTERS }),
    );
    if (diagnostic.action.tag === 'reset') {
      throw new Error(
        `the database does not match the migration history, so no migration can be created from it: ${diagnostic.action.reason}\n` +
          'Use a database that only the migrations have touched (or drop and recreate this one, losing its data).',
      );
    }
    return s.call('creating the migration', (e) =>
      e.createMigration({
        migrationsList,
        schema: { files: schema },
        draft: false,
        migrationName: slug,
        filters: NO_FILTERS,
      }),
    );
  });
  if (created.migrationScript === null) return null;

  await fs.promises.mkdir(migrationsDir, { recursive: true });
  const dir = path.join(migrationsDir, created.generatedMigrationName);
  await fs.promises.mkdir(dir);
  await fs.promises.writeFile(path.join(dir, `migration.${created.extension}`), created.migrationScript);
  const lockPath = path.join(migrationsDir, LOCKFILE);
  if (!fs.existsSync(lockPath)) await fs.promises.writeFile(lockPath, lockfileContent(created.connectorType));

  const applied = await applyMigrations(databaseUrl, opts);
  if (!applied.includes(created.generatedMigrationName)) {
    throw new Error(`migration ${created.generatedMigrationName} was created in ${dir} but not applied`);
  }
  return dir;
}

/**
 * Whether the schema has changes that no migration captures: diffs the migrations folder, replayed on a
 * temporary shadow database on the server of `databaseUrl` (created and dropped here), against the schema.
 * The database of `databaseUrl` itself is only used to connect (`postgres` is fine).
 */
export async function checkDrift(databaseUrl: string, opts: MigratorOptions = {}): Promise<DriftResult> {
  const { schemaPath, migrationsDir } = resolvePaths(opts);
  const schema = await readSchema(schemaPath);
  const migrationsList = await readMigrations(migrationsDir);
  const noHistory =
    migrationsList.migrationDirectories.length === 0 && migrationsList.lockfile.content === null;
  return withEngine(databaseUrl, opts, schema, async (s) => {
    const result = await s.call('diffing the migrations against the schema', (e) =>
      e.diff({
        from: noHistory ? { tag: 'empty' } : { tag: 'migrations', ...migrationsList },
        to: { tag: 'schemaDatamodel', files: schema },
        script: true,
        exitCode: true,
        filters: NO_FILTERS,
      }),
    );
    const drift = result.exitCode === 2;
    return { drift, sql: drift ? (result.stdout ?? '') : '' };
  });
}
