/**
 * The Troupe side of the gateway benchmark: PostgreSQL and Redis (found or started), s3rver, a control
 * server process (roles api + worker) that deploys one inference service into the cluster simulator,
 * and a separate gateway process (role gateway, built output) whose CPU the benchmark reads. This is how
 * the roles run in a cluster: the gateway as its own Deployment.
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
  startS3Server,
  startStack,
} from '../../../libs/testing/src';

const root = path.resolve(__dirname, '../../..');
const NS = 'bench-gw';

export interface TroupeDeployment {
  /** Base URL of the gateway process. */
  gatewayUrl: string;
  gatewayPid: number;
  /** Inference key of the service's project. */
  key: string;
  /** `model` to send to the gateway (the service's name). */
  model: string;
  /** What the leader pod's engine serves (`--served-model-name`). */
  servedModelName: string;
  /** The leader pod's engine, host:port. */
  leader: { namespace: string; pod: string; address: string };
  stop(): Promise<void>;
}

type Log = (m: string) => void;

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startServer(
  env: Record<string, string>,
  name: string,
  nodeArgs: string[] = [],
): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist/apps/server/src/main.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGINT')
      console.error(`${name} process exited: code ${code}, signal ${signal}`);
  });
  return { child, exited };
}

async function stopServer(s: { child: ChildProcess; exited: Promise<void> }): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
  await s.exited;
  clearTimeout(timer);
}

export async function deployTroupe(o: {
  tmp: string;
  kubeconfigPath: string;
  /** Cluster simulator base URL (for its /sim admin API). */
  simUrl: string;
  log: Log;
  /** Extra node flags for the gateway process (e.g. --cpu-prof). */
  gatewayNodeArgs?: string[];
}): Promise<TroupeDeployment> {
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    // Idempotent: each stopper runs once.
    for (let s = stoppers.pop(); s; s = stoppers.pop()) await s().catch((e) => console.error(e));
  };
  try {
    const s3 = await startS3Server({ directory: path.join(o.tmp, 's3'), bucket: 'bench' });
    stoppers.push(() => s3.stop());
    const stack = await startStack({
      dataDir: path.join(root, '.troupe', 'bench'),
      env: {},
      database: 'postgres',
    });
    stoppers.push(() => stack.stop());
    const dbName = `troupe_bench_gw_${Date.now()}`;
    await createDatabaseIfMissing(stack.databaseUrl, dbName);
    stoppers.push(() => dropDatabase(stack.databaseUrl, dbName));
    const dbUrl = new URL(stack.databaseUrl);
    dbUrl.pathname = `/${dbName}`;
    await applyMigrations(dbUrl.toString());

    const adminKey = `troupe_${randomBytes(32).toString('base64url')}`;
    const common = {
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: stack.redisUrl,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: 'bench',
      KUBECONFIG: o.kubeconfigPath,
      KUBE_NAMESPACE: NS,
      TROUPE_ADMIN_KEY: adminKey,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      QUEUE_PREFIX: `bench-gw-${process.pid}`,
    };
    const controlPort = await freePort();
    const control = startServer(
      { ...common, PORT: String(controlPort), ROLES: 'api,worker' },
      'control server',
    );
    stoppers.push(() => stopServer(control));
    const base = `http://127.0.0.1:${controlPort}`;
    const call = async (method: string, p: string, body?: unknown, raw?: Buffer) => {
      const res = await fetch(base + p, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(raw
            ? { 'content-type': 'application/octet-stream' }
            : body !== undefined
              ? { 'content-type': 'application/json' }
              : {}),
        },
        body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
      const text = await res.text();
      const parsed = text ? JSON.parse(text) : undefined;
      if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
      return parsed;
    };
    await waitUntil('the control server', 60_000, () =>
      fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    );

    const project = await call('POST', '/api/v1/projects', { name: 'bench-gateway' });
    const q = `?projectId=${project.id}`;
    await call('POST', '/api/v1/models', { name: 'tiny', projectId: project.id });
    await call('POST', `/api/v1/models/tiny/versions${q}`, { version: 'v1' });
    for (const [p, b] of buildCheckpoint({ layers: 2, hidden: 64, heads: 16, kvHeads: 8, shards: 1 }))
      await call('PUT', `/api/v1/models/tiny/versions/v1/files/${p}${q}`, undefined, b);
    await call('POST', `/api/v1/models/tiny/versions/v1/finalize${q}`);
    await waitUntil('the model version READY', 60_000, async () => {
      const v = await call('GET', `/api/v1/models/tiny/versions/v1${q}`);
      if (v.state === 'FAILED') throw new Error(`model version FAILED: ${JSON.stringify(v)}`);
      return v.state === 'READY';
    });
    const name = 'bench';
    await call('POST', '/api/v1/services', {
      name,
      projectId: project.id,
      model: 'tiny',
      version: 'v1',
      parallelism: { tensor: 8, pipeline: 1 },
      gpusPerNode: 8,
      engine: { image: 'vllm/vllm-openai:v0.11.0', maxModelLen: 2048 },
    });
    let service: {
      servedModelName: string;
      namespace: string;
      status: {
        phase: string;
        observed: { leaderEndpoints: { pod: string; ip: string; port: number }[] } | null;
      };
    } | null = null;
    await waitUntil('the service READY', 120_000, async () => {
      service = await call('GET', `/api/v1/services/${name}${q}`);
      return service!.status.phase === 'READY' && (service!.status.observed?.leaderEndpoints.length ?? 0) > 0;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(service?.status)}`);
    });
    const svc = service!;
    const ep = svc.status.observed!.leaderEndpoints[0];
    o.log(`service ${name} READY, leader ${ep.pod} at ${ep.ip}:${ep.port}`);
    // Zero delays on the leader's engine: the simulator's flags zero the token delays; this zeroes the
    // prefill cost too (every delay is multiplied by slowFactor, which must be > 0).
    const fault = await fetch(`${o.simUrl}/sim/engines/${svc.namespace}/${ep.pod}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ slowFactor: 1e-9 }),
    });
    if (!fault.ok) throw new Error(`sim faults: ${fault.status} ${await fault.text()}`);

    const key = (
      await call('POST', '/api/v1/api-keys', { name: 'bench', role: 'inference', projectId: project.id })
    ).key as string;

    const gatewayPort = await freePort();
    const gateway = startServer(
      { ...common, PORT: String(gatewayPort), ROLES: 'gateway' },
      'gateway',
      o.gatewayNodeArgs,
    );
    stoppers.push(() => stopServer(gateway));
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    let last = '';
    await waitUntil('the gateway to route to the service', 60_000, async () => {
      const r = await fetch(`${gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: name, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
      }).catch((e: Error) => e);
      if (r instanceof Error) {
        last = r.message;
        return false;
      }
      last = `${r.status} ${await r.text()}`;
      if (r.status === 404 && /Route POST:\/v1\/chat\/completions not found|Cannot POST/i.test(last))
        throw new Error(
          `the gateway process does not serve POST /v1/chat/completions (${last}); ` +
            'BENCH_SKIP_GATEWAY=1 measures the other paths',
        );
      return r.status === 200;
    }).catch((err: Error) => {
      throw err.message.startsWith('timed out') ? new Error(`${err.message}; last answer: ${last}`) : err;
    });
    return {
      gatewayUrl,
      gatewayPid: gateway.child.pid!,
      key,
      model: name,
      servedModelName: svc.servedModelName,
      leader: { namespace: svc.namespace, pod: ep.pod, address: `${ep.ip}:${ep.port}` },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
