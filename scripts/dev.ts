/**
 * `npm run dev`: the whole platform on one machine with embedded defaults.
 *
 * Uses DATABASE_URL, REDIS_URL, S3_* and KUBECONFIG when set; otherwise finds or starts PostgreSQL,
 * Redis and an S3 server (data under .troupe/) and, without KUBECONFIG, a cluster: the cluster
 * simulator (apps/cluster-sim, its own process, flags from TROUPE_SIM_ARGS) by default, or with
 * TROUPE_CLUSTER=kube (or `--kube`) the upstream control plane built from pinned Go modules
 * (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, the LWS controller; state under
 * .troupe/kube) with GPU nodes from the node agent (apps/node-agent, flags from
 * TROUPE_NODE_AGENT_ARGS). Applies migrations, and starts the server (built into dist/ by
 * `npm run build`) with every role. Prints the URLs and the admin key; Ctrl-C stops all it started.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyMigrations } from '../libs/db/src/migrator';
import {
  ControlPlaneBuildError,
  ControlPlaneError,
  StackError,
  startControlPlane,
  startStack,
  type ControlPlane,
} from '../libs/testing/src';

const root = path.resolve(__dirname, existsSync(path.resolve(__dirname, '../package.json')) ? '..' : '../..');
const dataDir = path.join(root, '.troupe');

function log(message: string): void {
  console.log(`[dev] ${message}`);
}

/** The admin key: TROUPE_ADMIN_KEY, else the one generated on a previous run, else a new one. */
function adminKey(): string {
  if (process.env.TROUPE_ADMIN_KEY) return process.env.TROUPE_ADMIN_KEY;
  const file = path.join(dataDir, 'admin-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = `troupe_${randomBytes(32).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const serverEntry = path.join(root, 'dist/apps/server/src/main.js');
  if (!existsSync(serverEntry))
    throw new Error(`${serverEntry} is missing: run npm run build (npm run dev does it)`);

  const stack = await startStack({
    dataDir,
    env: process.env,
    s3: true,
    s3Port: Number(process.env.S3_PORT ?? 0),
    log,
  });
  let stopping = false;
  let controlPlane: ControlPlane | undefined;
  const children: ReturnType<typeof spawn>[] = [];
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    // Newest first: the server stops before the simulator and the stores it uses.
    for (const c of [...children].reverse()) {
      await new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    }
    await controlPlane?.stop();
    await stack.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  for (const note of stack.notes) log(note);
  const applied = await applyMigrations(stack.databaseUrl);
  log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');

  const realCluster = process.env.TROUPE_CLUSTER === 'kube' || process.argv.includes('--kube');
  if (process.env.TROUPE_CLUSTER && !['kube', 'sim'].includes(process.env.TROUPE_CLUSTER))
    throw new StackError(`TROUPE_CLUSTER must be sim or kube, not ${process.env.TROUPE_CLUSTER}`);
  let kubeconfig = process.env.KUBECONFIG;
  let kubeNote = '';
  if (kubeconfig) {
    log(`Kubernetes: KUBECONFIG from the environment (${kubeconfig})`);
  } else if (realCluster) {
    const t0 = Date.now();
    controlPlane = await startControlPlane({ dir: path.join(dataDir, 'kube'), log });
    kubeconfig = controlPlane.kubeconfigPath;
    const agentArgs = (process.env.TROUPE_NODE_AGENT_ARGS ?? '').split(/\s+/).filter(Boolean);
    const agent = spawn(
      process.execPath,
      [path.join(root, 'dist/apps/node-agent/src/main.js'), '--kubeconfig', kubeconfig, ...agentArgs],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(agent);
    agent.on('exit', (code, signal) => {
      if (!stopping) {
        log(`node agent exited (${signal ?? code}); stopping`);
        void stopAll(code ?? 1);
      }
    });
    const adminUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('the node agent did not start in 30 s')), 30_000);
      agent.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /https?:\/\/\S+/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
    });
    agent.stdout?.pipe(process.stdout);
    kubeNote = `    faults     ${adminUrl}/sim (node agent)`;
    log(
      `Kubernetes: upstream control plane (Kubernetes ${controlPlane.versions.kubernetes}, LWS ${controlPlane.versions.lws}) ` +
        `with the node agent (${agentArgs.length ? agentArgs.join(' ') : 'default flags'}), ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; kubeconfig ${kubeconfig}; logs ${path.join(dataDir, 'kube', 'logs')}`,
    );
  } else {
    kubeconfig = path.join(dataDir, 'sim', 'kubeconfig.yaml');
    mkdirSync(path.dirname(kubeconfig), { recursive: true });
    rmSync(kubeconfig, { force: true });
    const simArgs = (process.env.TROUPE_SIM_ARGS ?? '').split(/\s+/).filter(Boolean);
    const sim = spawn(
      process.execPath,
      [
        path.join(root, 'dist/apps/cluster-sim/src/main.js'),
        '--kubeconfig',
        kubeconfig,
        '--quiet',
        ...simArgs,
      ],
      {
        cwd: root,
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    children.push(sim);
    sim.on('exit', (code, signal) => {
      if (!stopping) {
        log(`cluster simulator exited (${signal ?? code}); stopping`);
        void stopAll(code ?? 1);
      }
    });
    const deadline = Date.now() + 30_000;
    while (!existsSync(kubeconfig) && Date.now() < deadline && !stopping)
      await new Promise((r) => setTimeout(r, 100));
    if (!existsSync(kubeconfig))
      throw new Error('the cluster simulator did not start (no kubeconfig after 30 s)');
    log(
      `Kubernetes: cluster simulator (${simArgs.length ? simArgs.join(' ') : 'default flags'}), kubeconfig ${kubeconfig}`,
    );
  }

  const port = process.env.PORT ?? '3000';
  const key = adminKey();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: stack.databaseUrl,
    REDIS_URL: stack.redisUrl,
    TROUPE_ADMIN_KEY: key,
    PORT: port,
    HOST: process.env.HOST ?? '127.0.0.1',
    LOG_PRETTY: process.env.LOG_PRETTY ?? 'true',
    KUBECONFIG: kubeconfig,
  };
  if (stack.s3) {
    Object.assign(env, {
      S3_ENDPOINT: stack.s3.endpoint,
      S3_ACCESS_KEY: stack.s3.accessKey,
      S3_SECRET_KEY: stack.s3.secretKey,
      S3_BUCKET: stack.s3.bucket,
    });
  }

  const server = spawn(process.execPath, ['--enable-source-maps', serverEntry], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  children.push(server);
  server.on('exit', (code, signal) => {
    if (!stopping) {
      log(`server exited (${signal ?? code}); stopping`);
      void stopAll(code ?? 1);
    }
  });

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !stopping) {
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (stopping) return;
  console.log(
    [
      '',
      '  Troupe is running',
      `    API        ${base}/api/v1`,
      `    OpenAI     ${base}/v1`,
      `    API docs   ${base}/api/docs`,
      `    health     ${base}/healthz   ${base}/readyz   ${base}/metrics`,
      stack.s3 ? `    S3         ${stack.s3.endpoint} (bucket ${stack.s3.bucket})` : '',
      `    kubectl    kubectl --kubeconfig ${kubeconfig} get lws,pods -A`,
      kubeNote,
      `    admin key  ${key}`,
      '',
      '  Try:',
      `    curl -s -H "Authorization: Bearer ${key}" -H 'content-type: application/json' \\`,
      `      -d '{"name":"demo"}' ${base}/api/v1/projects`,
      '',
      '  Ctrl-C stops everything started here.',
      '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(
    `[dev] ${
      err instanceof StackError || err instanceof ControlPlaneError || err instanceof ControlPlaneBuildError
        ? err.message
        : err instanceof Error
          ? err.stack
          : String(err)
    }`,
  );
  process.exit(1);
});
