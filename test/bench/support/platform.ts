/**
 * Starting the platform for a benchmark, in pieces each benchmark composes in its own order: the stack
 * (PostgreSQL and Redis, found or started), a fresh migrated database on it, the built server process
 * (`dist/apps/server/src/main.js`, so `npm run build` first) with its environment, an authenticated
 * client for its API, the tiny model the deploying benchmarks serve, and the process exit of a
 * benchmark's main.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { buildCheckpoint } from '../../../libs/core/src/models/verification';
import { applyMigrations } from '../../../libs/db/src/migrator';
import {
  createDatabaseIfMissing,
  dropDatabase,
  freePort,
  type S3Endpoint,
  type Stack,
  startStack,
  waitFor,
} from '../../../libs/testing/src';

/** The repository's root. */
export const ROOT = path.resolve(__dirname, '../../..');

/** PostgreSQL and Redis as the environment names them, found locally, or started under `.troupe/bench`. */
export function startBenchStack(): Promise<Stack> {
  return startStack({ dataDir: path.join(ROOT, '.troupe', 'bench'), env: {}, database: 'postgres' });
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new database `<prefix>_<Date.now()>` on the stack's PostgreSQL with the migrations applied (dropped again when they fail). */
export async function createBenchDatabase(stack: Stack, prefix: string): Promise<BenchDatabase> {
  const name = `${prefix}_${Date.now()}`;
  await createDatabaseIfMissing(stack.databaseUrl, name);
  const url = new URL(stack.databaseUrl);
  url.pathname = `/${name}`;
  const drop = () => dropDatabase(stack.databaseUrl, name);
  try {
    await applyMigrations(url.toString());
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
  return { name, url: url.toString(), drop };
}

/** A random admin key in the platform's key format (`TROUPE_ADMIN_KEY`). */
export function newAdminKey(): string {
  return `troupe_${randomBytes(32).toString('base64url')}`;
}

/** The environment every benchmark's server process gets; each benchmark adds its own variables. */
export function platformEnv(o: {
  databaseUrl: string;
  redisUrl: string;
  s3: S3Endpoint;
  adminKey: string;
}): Record<string, string> {
  return {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    S3_ENDPOINT: o.s3.endpoint,
    S3_ACCESS_KEY: o.s3.accessKey,
    S3_SECRET_KEY: o.s3.secretKey,
    S3_BUCKET: o.s3.bucket,
    TROUPE_ADMIN_KEY: o.adminKey,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
}

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** SIGTERM (SIGKILL after 15 s) and wait for the exit; nothing when it has exited already. */
  stop(): Promise<void>;
}

/**
 * Spawns the built server: this process's environment, then `env`, then `PORT` (`port`, or a free
 * one). `nodeArgs` go before the entry script (e.g. `--cpu-prof`). Output goes to this process's
 * stdout/stderr; an exit other than by SIGTERM/SIGINT is reported on stderr with `name`.
 */
export async function startServer(o: {
  name: string;
  env: Record<string, string>;
  port?: number;
  nodeArgs?: string[];
}): Promise<ServerProcess> {
  const port = o.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [...(o.nodeArgs ?? []), path.join(ROOT, 'dist/apps/server/src/main.js')],
    {
      env: { ...process.env, ...o.env, PORT: String(port) },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGINT')
      console.error(`${o.name} process exited: code ${code}, signal ${signal}`);
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return { name: o.name, child, port, url: `http://127.0.0.1:${port}`, exited, stop };
}

/** Polls `check` every 100 ms until it holds; throws `timed out after <ms> ms waiting for <what>`. */
export function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  return waitFor(check, timeoutMs, what);
}

/** Polls `/readyz` every 100 ms until it answers 2xx; fails at once when the process exits first. */
export async function waitReady(server: ServerProcess, timeoutMs: number): Promise<void> {
  await waitUntil(`the ${server.name}`, timeoutMs, async () => {
    if (server.child.exitCode !== null || server.child.signalCode !== null)
      throw new Error(`the ${server.name} process exited before it was ready`);
    return fetch(`${server.url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
  });
}

/** A parsed JSON body of the API: the benchmarks read the fields they need. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiClient {
  /** The status and the parsed body (undefined when empty), whatever the status. */
  request(method: string, p: string, body?: unknown, raw?: Buffer): Promise<{ status: number; body: Json }>;
  /** The parsed body; throws `<method> <path>: <status> <body>` when the status is not 2xx. */
  call(method: string, p: string, body?: unknown, raw?: Buffer): Promise<Json>;
}

/** Calls the API at `baseUrl` with `key` as the bearer: `body` as JSON, or `raw` as octet-stream. */
export function apiClient(baseUrl: string, key: string): ApiClient {
  const send = async (method: string, p: string, body?: unknown, raw?: Buffer) => {
    const res = await fetch(baseUrl + p, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(raw
          ? { 'content-type': 'application/octet-stream' }
          : body !== undefined
            ? { 'content-type': 'application/json' }
            : {}),
      },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    return { status: res.status, text: await res.text() };
  };
  const parse = (text: string): Json => (text ? JSON.parse(text) : undefined);
  return {
    async request(method, p, body, raw) {
      const { status, text } = await send(method, p, body, raw);
      return { status, body: parse(text) };
    },
    async call(method, p, body, raw) {
      const { status, text } = await send(method, p, body, raw);
      if (status >= 300) throw new Error(`${method} ${p}: ${status} ${text}`);
      return parse(text);
    },
  };
}

/** Model `tiny` version `v1` in the project: a 2-layer checkpoint uploaded, finalized, and READY (60 s at most). */
export async function createTinyModel(api: ApiClient, projectId: string): Promise<void> {
  const q = `?projectId=${projectId}`;
  await api.call('POST', '/api/v1/models', { name: 'tiny', projectId });
  await api.call('POST', `/api/v1/models/tiny/versions${q}`, { version: 'v1' });
  for (const [p, b] of buildCheckpoint({ layers: 2, hidden: 64, heads: 16, kvHeads: 8, shards: 1 }))
    await api.call('PUT', `/api/v1/models/tiny/versions/v1/files/${p}${q}`, undefined, b);
  await api.call('POST', `/api/v1/models/tiny/versions/v1/finalize${q}`);
  await waitUntil('the model version READY', 60_000, async () => {
    const v = await api.call('GET', `/api/v1/models/tiny/versions/v1${q}`);
    if (v.state === 'FAILED') throw new Error(`model version FAILED: ${JSON.stringify(v)}`);
    return v.state === 'READY';
  });
}

/** A service of the tiny model: TP 8 on 8-GPU nodes (one pod per group); `engine` adds engine settings. */
export function tinyService(name: string, projectId: string, engine: Record<string, unknown> = {}) {
  return {
    name,
    projectId,
    model: 'tiny',
    version: 'v1',
    parallelism: { tensor: 8, pipeline: 1 },
    gpusPerNode: 8,
    engine: { image: 'vllm/vllm-openai:v0.11.0', maxModelLen: 2048, ...engine },
  };
}

/** Runs a benchmark's main: exit code 0 when it resolves (whatever handles remain), 1 with the error printed when it fails. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
