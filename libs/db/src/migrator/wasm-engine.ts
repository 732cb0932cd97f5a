// Loads Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm) and connects it to
// PostgreSQL through @prisma/adapter-pg, so migrations run where the native schema-engine binary cannot
// be downloaded. The engine writes the standard `_prisma_migrations` table, so the official CLI can take
// over wherever its binary is reachable.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  DriverAdapterError,
  type ErrorRegistry,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type {
  ApplyMigrationsInput,
  ApplyMigrationsOutput,
  CreateMigrationInput,
  CreateMigrationOutput,
  DevDiagnosticInput,
  DevDiagnosticOutput,
  DiagnoseMigrationHistoryInput,
  DiagnoseMigrationHistoryOutput,
  DiffParams,
  DiffResult,
  MarkMigrationAppliedInput,
  MarkMigrationRolledBackInput,
} from '@prisma/schema-engine-wasm';
import pg from 'pg';

/** The engine methods this library uses (see @prisma/schema-engine-wasm/schema_engine.d.ts). */
export interface WasmSchemaEngine {
  applyMigrations(input: ApplyMigrationsInput): Promise<ApplyMigrationsOutput>;
  createMigration(input: CreateMigrationInput): Promise<CreateMigrationOutput>;
  devDiagnostic(input: DevDiagnosticInput): Promise<DevDiagnosticOutput>;
  diagnoseMigrationHistory(input: DiagnoseMigrationHistoryInput): Promise<DiagnoseMigrationHistoryOutput>;
  diff(params: DiffParams): Promise<DiffResult>;
  markMigrationApplied(input: MarkMigrationAppliedInput): Promise<unknown>;
  markMigrationRolledBack(input: MarkMigrationRolledBackInput): Promise<unknown>;
  version(): Promise<string>;
  free(): void;
}

interface SchemaEngineClass {
  new: (
    options: { datamodels: [string, string][] | undefined },
    log: (line: string) => void,
    adapter: object,
  ) => Promise<WasmSchemaEngine>;
}

interface EngineBindings {
  SchemaEngine: SchemaEngineClass;
}

type WasmExports = Record<string, unknown>;

/** The part of the WebAssembly global used here (the project's `lib` has no DOM typings). */
interface WebAssemblyApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: WasmExports } }>;
}

/** The file names inside @prisma/schema-engine-wasm. */
const BG_MODULE = '@prisma/schema-engine-wasm/schema_engine_bg';
const WASM_FILE = 'schema_engine_bg.wasm';

let lastPanic: string | undefined;
let bindings: Promise<EngineBindings> | undefined;

/** Path of the .wasm file, resolved from the installed package (works from sources and from dist/). */
export function wasmPath(): string {
  return path.join(path.dirname(require.resolve(BG_MODULE)), WASM_FILE);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

async function loadBindings(): Promise<EngineBindings> {
  // The engine's panic hook reports the Rust panic message here before the WebAssembly trap.
  const registry = { set_message: (message: string) => void (lastPanic = message) };
  Object.assign(globalThis, { PRISMA_WASM_PANIC_REGISTRY: registry });

  // An ES module: the CommonJS build loads it with require() (Node >= 20.19), tsx and Vitest with import().
  const mod: unknown = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  if (!isRecord(mod) || typeof mod.__wbg_set_wasm !== 'function' || typeof mod.SchemaEngine !== 'function') {
    throw new Error(`${BG_MODULE} does not look like the Prisma schema engine bindings`);
  }
  const bytes = await fs.promises.readFile(wasmPath());
  const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi };
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': mod });
  const exports = instance.exports;
  (mod.__wbg_set_wasm as (e: WasmExports) => void)(exports);
  const start = exports.__wbindgen_start;
  if (typeof start === 'function') (start as () => void)();
  return mod as unknown as EngineBindings;
}

function getBindings(): Promise<EngineBindings> {
  bindings ??= loadBindings().catch((err: unknown) => {
    bindings = undefined;
    throw err;
  });
  return bindings;
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL connections

/** Type OIDs @prisma/adapter-pg maps to a column type (see fieldToColumnType in its sources). */
const ADAPTER_KNOWN_OIDS = new Set([
  16, 17, 19, 20, 21, 23, 25, 26, 114, 142, 650, 700, 701, 790, 869, 1042, 1043, 1082, 1083, 1114, 1184, 1266,
  1560, 1562, 1700, 2950, 3802,
  // arrays
  143, 199, 651, 791, 1000, 1001, 1002, 1005, 1007, 1009, 1014, 1015, 1016, 1021, 1022, 1028, 1041, 1115,
  1182, 1183, 1185, 1231, 1561, 1563, 2951, 3807,
]);
const TEXT_OID = 25;
const TEXT_ARRAY_OID = 1009;
/** Arrays of built-in types the adapter does not know, read as text[] (name[], regclass[], aclitem[]…). */
const UNKNOWN_ARRAY_OIDS = new Set([
  1003, 1008, 1010, 1011, 1012, 1013, 1017, 1018, 1019, 1020, 1023, 1024, 1025, 1027, 1034, 1040, 2201, 2207,
  2208, 2209, 2210, 2211, 1263, 3643, 3644, 3645, 3735, 3770, 4090,
]);
/** OIDs below this are built into PostgreSQL; the adapter reads user-defined types (enums…) as text. */
const FIRST_NORMAL_OBJECT_ID = 16384;

/**
 * The adapter throws on catalog column types the engine reads (`name[]`, `"char"`, `void`, `regclass`…).
 * This client rewrites the row description so that such columns arrive as text (or text[]), which is
 * what the engine expects from them anyway. It only changes how the result is labelled, not the query.
 */
export class CatalogTextClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.connection.prependListener('rowDescription', (msg: unknown) => {
      if (!isRecord(msg) || !Array.isArray(msg.fields)) return;
      for (const field of msg.fields as unknown[]) {
        if (!isRecord(field) || typeof field.dataTypeID !== 'number') continue;
        const oid = field.dataTypeID;
        if (oid < FIRST_NORMAL_OBJECT_ID && !ADAPTER_KNOWN_OIDS.has(oid)) {
          field.dataTypeID = UNKNOWN_ARRAY_OIDS.has(oid) ? TEXT_ARRAY_OID : TEXT_OID;
        }
      }
    });
  }
}

/** Connection settings from a postgres:// URL, with the database optionally replaced. */
export function poolConfig(databaseUrl: string, database?: string): pg.PoolConfig {
  const url = parseDatabaseUrl(databaseUrl);
  if (database !== undefined) url.pathname = `/${encodeURIComponent(database)}`;
  // `schema` is Prisma's parameter, not libpq's: it goes to the adapter options instead.
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), Client: CatalogTextClient, max: 4 };
}

export function parseDatabaseUrl(databaseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error(
      'DATABASE_URL is not a valid URL (expected postgresql://user:password@host:port/database)',
    );
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new Error(`DATABASE_URL must be a postgresql:// URL, got ${url.protocol}//…`);
  }
  return url;
}

function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(parseDatabaseUrl(databaseUrl).pathname.replace(/^\//, ''));
  return name || 'postgres';
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function toDriverError(err: unknown): unknown {
  if (
    isRecord(err) &&
    typeof err.code === 'string' &&
    typeof err.message === 'string' &&
    typeof err.severity === 'string'
  ) {
    return new DriverAdapterError({
      kind: 'postgres',
      code: err.code,
      severity: err.severity,
      message: err.message,
      detail: typeof err.detail === 'string' ? err.detail : undefined,
      column: typeof err.column === 'string' ? err.column : undefined,
      hint: typeof err.hint === 'string' ? err.hint : undefined,
    });
  }
  return err;
}

/** A PostgreSQL error raised by a script (a migration), kept to report where it failed. */
export interface ScriptFailure {
  code: string;
  message: string;
  /** 1-based line of the script where PostgreSQL located the error, when it did. */
  line?: number;
}

function scriptFailure(err: unknown, script: string): ScriptFailure | undefined {
  if (!isRecord(err) || typeof err.code !== 'string' || typeof err.message !== 'string') return undefined;
  const position = Number(err.position);
  const line =
    Number.isInteger(position) && position > 0 ? script.slice(0, position - 1).split('\n').length : undefined;
  return { code: err.code, message: err.message, line };
}

/** "PostgreSQL error 42P01 at line 2: relation "x" does not exist" */
export function describeScriptFailure(f: ScriptFailure): string {
  return `PostgreSQL error ${f.code}${f.line ? ` at line ${f.line}` : ''}: ${f.message}`;
}

/** Runs one statement on a short-lived connection to the server of `databaseUrl`. */
async function adminQuery(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client(poolConfig(databaseUrl));
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createDatabase(databaseUrl: string, name: string): Promise<void> {
  await adminQuery(databaseUrl, `CREATE DATABASE ${quoteIdent(name)}`);
}

export async function dropDatabase(databaseUrl: string, name: string): Promise<void> {
  await adminQuery(databaseUrl, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/**
 * A migration-aware adapter factory: the main database is the one of `databaseUrl`; each shadow database
 * is created on the same server with discrete settings (the adapter's own would connect to the main
 * database when given a connection string) and dropped with FORCE after its pool is closed (the adapter
 * drops it while its own pool still holds connections).
 */
export class MigratorAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = '@prisma/adapter-pg';
  private readonly adapterOptions: { schema?: string };
  private readonly open = new Set<SqlDriverAdapter>();
  private readonly shadows = new Set<string>();

  constructor(private readonly databaseUrl: string) {
    const schema = parseDatabaseUrl(databaseUrl).searchParams.get('schema');
    this.adapterOptions = schema ? { schema } : {};
  }

  /** The last error a script (migration) raised, for error messages: the engine keeps only part of it. */
  lastScriptFailure: ScriptFailure | undefined;

  async connect(): Promise<SqlDriverAdapter> {
    const adapter = await new PrismaPg(poolConfig(this.databaseUrl), this.adapterOptions).connect();
    return this.track(this.sendScriptsWhole(adapter));
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const name = `prisma_migrate_shadow_db_${randomUUID().replace(/-/g, '')}`;
    await createDatabase(this.databaseUrl, name);
    this.shadows.add(name);
    const adapter = await new PrismaPg(poolConfig(this.databaseUrl, name), this.adapterOptions).connect();
    const close = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      try {
        await close();
      } finally {
        await this.dropShadow(name);
      }
    };
    return this.track(this.sendScriptsWhole(adapter));
  }

  /** Closes every pool still open and drops every shadow database still there. */
  async close(): Promise<void> {
    const adapters = [...this.open];
    this.open.clear();
    await Promise.allSettled(adapters.map((a) => a.dispose()));
    await Promise.allSettled([...this.shadows].map((name) => this.dropShadow(name)));
  }

  /**
   * The adapter's executeScript splits the script on `;`, which breaks `$$` function bodies and string
   * literals: send the script whole instead (the simple query protocol accepts several statements).
   */
  private sendScriptsWhole(adapter: SqlDriverAdapter & { underlyingDriver(): pg.Pool }): SqlDriverAdapter {
    const pool = adapter.underlyingDriver();
    adapter.executeScript = async (script: string): Promise<void> => {
      try {
        await pool.query(script);
      } catch (err) {
        this.lastScriptFailure = scriptFailure(err, script);
        throw toDriverError(err);
      }
    };
    return adapter;
  }

  private track(adapter: SqlDriverAdapter): SqlDriverAdapter {
    const dispose = adapter.dispose.bind(adapter);
    let disposed = false;
    this.open.add(adapter);
    adapter.dispose = async () => {
      this.open.delete(adapter);
      if (disposed) return;
      disposed = true;
      await dispose();
    };
    return adapter;
  }

  private async dropShadow(name: string): Promise<void> {
    if (!this.shadows.delete(name)) return;
    await dropDatabase(this.databaseUrl, name);
  }
}

// ---------------------------------------------------------------------------------------------------
// Engine sessions

export interface EngineSession {
  engine: WasmSchemaEngine;
  /** Runs an engine call, turning its errors into Errors with a readable message. */
  call<T>(what: string, fn: (engine: WasmSchemaEngine) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface EngineOptions {
  /** Prisma schema files given to the engine as its datamodel: [path, content]. */
  datamodels?: [string, string][];
  /** Receives the engine's log lines (JSON). */
  log?: (line: string) => void;
}

/** Starts a schema engine connected to `databaseUrl`. Close it when done, it holds connection pools. */
export async function openEngine(databaseUrl: string, opts: EngineOptions = {}): Promise<EngineSession> {
  const { SchemaEngine } = await getBindings();
  const factory = new MigratorAdapterFactory(databaseUrl);
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  const log = opts.log ?? (() => undefined);
  let engine: WasmSchemaEngine;
  try {
    engine = await SchemaEngine.new({ datamodels: opts.datamodels }, log, adapter);
  } catch (err) {
    await factory.close();
    throw engineError('starting the schema engine', err, adapter.errorRegistry, databaseUrl);
  }
  let closed = false;
  return {
    engine,
    async call(what, fn) {
      lastPanic = undefined;
      factory.lastScriptFailure = undefined;
      try {
        return await fn(engine);
      } catch (err) {
        const failure = factory.lastScriptFailure;
        throw engineError(
          what,
          err,
          adapter.errorRegistry,
          databaseUrl,
          failure && describeScriptFailure(failure),
        );
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        engine.free();
      } finally {
        await factory.close();
      }
    },
  };
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return value;
  if (isRecord(value)) {
    if (typeof value.message === 'string') return value.message;
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * Builds a readable error from what the engine threw: the engine reports driver failures as
 * "External error id#N", whose cause sits in the adapter's error registry; panics leave their message in
 * the panic registry.
 */
export function engineError(
  what: string,
  err: unknown,
  registry: ErrorRegistry,
  databaseUrl?: string,
  detail?: string,
): Error {
  // The engine appends a Rust span trace ("   0: schema_engine_wasm::…"): keep the message only.
  let message = describe(err)
    .replace(/\n\s+0: [\s\S]*$/, '')
    .trim();
  const causes: unknown[] = [];
  message = message.replace(/External error id#(\d+)/g, (match, id: string) => {
    const record = registry.consumeError(Number(id));
    if (!record) return match;
    causes.push(record.error);
    return describe(record.error);
  });
  if (lastPanic !== undefined) {
    message = `the schema engine panicked: ${lastPanic} (${message})`;
    lastPanic = undefined;
  }
  const code = isRecord(err) && typeof err.code === 'string' ? err.code : undefined;
  const where = databaseUrl ? ` (database "${databaseName(databaseUrl)}")` : '';
  if (detail && !message.includes(detail)) message += `\n${detail}`;
  return new Error(`${what} failed${where}: ${code ? `${code} ` : ''}${message}`, {
    cause: causes.length > 0 ? causes[0] : err,
  });
}
