/**
 * Gateway benchmark: `npm run bench:gateway` (builds first).
 *
 * One run, three paths to the same simulated vLLM engine with zero delays (libs/engine-sim: no time to
 * first token, no time per token, no prefill cost), so that what is measured is the path:
 *   direct   the engine itself;
 *   nginx    nginx as a reverse proxy (its own config on loopback, one worker, keep-alive upstream,
 *            no buffering), skipped with a message when nginx is not installed;
 *   gateway  Troupe's /v1/chat/completions: a gateway process (role gateway, built output) routing to
 *            the leader pod of a service deployed in the cluster simulator by a control process.
 * With the gateway, all three paths target that leader pod's engine. The engine and the simulator run
 * in a child process (test/bench/gateway/backend.ts), away from this load generator.
 *
 * Warm-up first; then rounds, each measuring every path in turn (order rotated per round) on each of:
 * non-streaming latency at concurrency 1, requests/s at concurrency 64, time to first token of streams
 * at concurrency 1. The machine is shared and noisy: interleaving spreads the noise over all paths.
 * Prints added latency / TTFT against the direct path, throughput ratios, the proxies' CPU per 1,000
 * requests (from /proc), and the goals of issue 6 next to the figures.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_SECONDS (c=64 window per path per round, default 2),
 * BENCH_LATENCY_REQUESTS (per path per round, default 1000), BENCH_STREAMS (per path per round, default
 * 300), BENCH_CONCURRENCY (default 64), BENCH_MAX_TOKENS (default 16), BENCH_SKIP_GATEWAY=1,
 * BENCH_NGINX_WORKERS (default 1), BENCH_PROFILE=1 (gateway under `node --cpu-prof`; the profile's
 * top costs are printed at the end).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../libs/testing/src';
import { summarizeCpuProfile } from './gateway/cpuprofile';
import { chatOnce, closedLoop, makePool, sequential, streamOnce, type Target } from './gateway/load';
import { findNginx, type NginxProxy, startNginx } from './gateway/nginx';
import { cpuMs, treeCpuMs } from './gateway/proc';
import { percentile } from './gateway/stats';
import { deployTroupe, type TroupeDeployment } from './gateway/troupe';
import { runBenchmark } from './support/platform';

const env = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const ROUNDS = env('BENCH_ROUNDS', 5);
const SECONDS = env('BENCH_SECONDS', 2);
const LATENCY_N = env('BENCH_LATENCY_REQUESTS', 1000);
const STREAMS_N = env('BENCH_STREAMS', 300);
const CONCURRENCY = env('BENCH_CONCURRENCY', 64);
const MAX_TOKENS = env('BENCH_MAX_TOKENS', 16);
const NGINX_WORKERS = env('BENCH_NGINX_WORKERS', 1);
const PROFILE = process.env.BENCH_PROFILE === '1';

interface PathStats {
  latency: number[];
  ttft: number[];
  requests: number;
  elapsedMs: number;
  perRound: number[];
  /** CPU ms of the proxy process(es) during the c=N windows, and of this load generator. */
  proxyCpuMs: number;
  clientCpuMs: number;
  streamProxyCpuMs: number;
  streams: number;
  /** When each measurement ran (monotonic clock, µs), to select profile samples. */
  windows: { phase: 'c1' | 'cN' | 'stream'; from: number; to: number }[];
}

interface BenchPath extends Target {
  /** CPU ms so far of the process(es) in the path between client and engine (none for direct). */
  proxyCpu?: () => number;
  stats: PathStats;
}

function startBackend(
  kubeconfigPath: string,
): Promise<{ child: ChildProcess; engineUrl: string; simUrl: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'gateway', 'backend.ts'), kubeconfigPath],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve({ child, ...(JSON.parse(line) as { engineUrl: string; simUrl: string }) });
      } catch {
        reject(new Error(`backend said: ${line}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`backend exited with ${code}`)));
  });
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

const clientCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function measureLatency(p: BenchPath, n: number) {
  const from = monotonicUs();
  p.stats.latency.push(...(await sequential(n, () => chatOnce(p))));
  p.stats.windows.push({ phase: 'c1', from, to: monotonicUs() });
}

async function measureThroughput(p: BenchPath, seconds: number) {
  const proxy0 = p.proxyCpu?.() ?? 0;
  const client0 = clientCpu();
  const from = monotonicUs();
  const r = await closedLoop(CONCURRENCY, seconds * 1000, () => chatOnce(p));
  p.stats.windows.push({ phase: 'cN', from, to: monotonicUs() });
  p.stats.proxyCpuMs += (p.proxyCpu?.() ?? 0) - proxy0;
  p.stats.clientCpuMs += clientCpu() - client0;
  p.stats.requests += r.requests;
  p.stats.elapsedMs += r.elapsedMs;
  p.stats.perRound.push((r.requests * 1000) / r.elapsedMs);
}

async function measureStreams(p: BenchPath, n: number) {
  const proxy0 = p.proxyCpu?.() ?? 0;
  const from = monotonicUs();
  const results = await sequential(n, () => streamOnce(p));
  p.stats.windows.push({ phase: 'stream', from, to: monotonicUs() });
  p.stats.streamProxyCpuMs += (p.proxyCpu?.() ?? 0) - proxy0;
  p.stats.streams += n;
  p.stats.ttft.push(...results.map((r) => r.ttft));
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

async function main() {
  const tmp = mkdtempSync(path.join(tmpdir(), 'troupe-bench-gw-'));
  const cleanups: (() => Promise<void>)[] = [];
  const log = (m: string) => console.log(`[bench] ${m}`);
  // Kept after the run, unlike the temp dir.
  const profileDir = path.resolve(__dirname, '../../.troupe/bench', `gateway-profile-${Date.now()}`);
  try {
    const kubeconfigPath = path.join(tmp, 'kubeconfig.yaml');
    const backend = await startBackend(kubeconfigPath);
    cleanups.push(async () => {
      backend.child.kill('SIGTERM');
      await new Promise((r) => (backend.child.exitCode !== null ? r(null) : backend.child.once('exit', r)));
    });
    log(`engine ${backend.engineUrl}, cluster simulator ${backend.simUrl} (child pid ${backend.child.pid})`);

    let troupe: TroupeDeployment | null = null;
    if (process.env.BENCH_SKIP_GATEWAY === '1') log('gateway path skipped (BENCH_SKIP_GATEWAY=1)');
    else {
      troupe = await deployTroupe({
        tmp,
        kubeconfigPath,
        simUrl: backend.simUrl,
        log,
        gatewayNodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      });
      cleanups.push(() => troupe!.stop());
      log(`gateway ${troupe.gatewayUrl} (pid ${troupe.gatewayPid})`);
    }

    // With the gateway, every path targets the engine of the service's leader pod.
    const engineAddress = troupe ? troupe.leader.address : new URL(backend.engineUrl).host;
    const engineModel = troupe ? troupe.servedModelName : 'bench';

    const nginxBinary = findNginx();
    let nginx: NginxProxy | null = null;
    if (!nginxBinary) log('nginx path skipped: nginx is not installed (apt-get install -y nginx)');
    else {
      nginx = await startNginx({
        binary: nginxBinary,
        dir: path.join(tmp, 'nginx'),
        port: await freePort(),
        upstream: engineAddress,
        workers: NGINX_WORKERS,
      });
      cleanups.push(() => nginx!.stop());
      log(`nginx ${nginx.url} -> ${engineAddress} (pid ${nginx.pid}, ${NGINX_WORKERS} worker)`);
    }

    const body = (model: string, stream: boolean) =>
      Buffer.from(
        JSON.stringify({
          model,
          messages: [{ role: 'user', content: 'Write one sentence about measuring proxies.' }],
          max_tokens: MAX_TOKENS,
          ignore_eos: true,
          ...(stream ? { stream: true } : {}),
        }),
      );
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${troupe?.key ?? 'unused'}`,
    };
    const emptyStats = (): PathStats => ({
      latency: [],
      ttft: [],
      requests: 0,
      elapsedMs: 0,
      perRound: [],
      proxyCpuMs: 0,
      clientCpuMs: 0,
      streamProxyCpuMs: 0,
      streams: 0,
      windows: [],
    });
    const paths: BenchPath[] = [];
    const add = (name: string, url: string, model: string, proxyCpu?: () => number) => {
      const pool = makePool(url, CONCURRENCY);
      cleanups.push(() => pool.close());
      paths.push({
        name,
        pool,
        headers,
        chat: body(model, false),
        stream: body(model, true),
        proxyCpu,
        stats: emptyStats(),
      });
    };
    add('direct', `http://${engineAddress}`, engineModel);
    if (nginx) add('nginx', nginx.url, engineModel, () => treeCpuMs(nginx!.pid));
    if (troupe) add('gateway', troupe.gatewayUrl, troupe.model, () => cpuMs(troupe!.gatewayPid));

    log('warm-up');
    for (const p of paths) {
      await sequential(200, () => chatOnce(p));
      await closedLoop(CONCURRENCY, 1500, () => chatOnce(p));
      await sequential(100, () => streamOnce(p));
      p.stats = emptyStats();
    }

    for (let round = 0; round < ROUNDS; round++) {
      const order = paths.map((_, i) => paths[(i + round) % paths.length]);
      for (const p of order) await measureLatency(p, LATENCY_N);
      for (const p of order) await measureThroughput(p, SECONDS);
      for (const p of order) await measureStreams(p, STREAMS_N);
      log(
        `round ${round + 1}/${ROUNDS}: ` +
          order.map((p) => `${p.name} ${f0(p.stats.perRound[p.stats.perRound.length - 1])} req/s`).join(', '),
      );
    }

    // ---- report ----
    const direct = paths[0].stats;
    const d50 = percentile(direct.latency, 50);
    const d99 = percentile(direct.latency, 99);
    const t50 = percentile(direct.ttft, 50);
    const t99 = percentile(direct.ttft, 99);
    const rps = (s: PathStats) => (s.requests * 1000) / s.elapsedMs;
    const nginxStats = paths.find((p) => p.name === 'nginx')?.stats;
    const gw = paths.find((p) => p.name === 'gateway')?.stats;

    console.log('');
    console.log(
      `Gateway benchmark: node ${process.version}, ${cpus().length} cores, ${ROUNDS} rounds; per path per round: ` +
        `${LATENCY_N} requests at c=1, ${SECONDS} s at c=${CONCURRENCY}, ${STREAMS_N} streams at c=1; ` +
        `chat completions of ${MAX_TOKENS} tokens, engine with zero delays` +
        (nginxBinary
          ? `; ${spawnSync(nginxBinary, ['-v'], { encoding: 'utf8' }).stderr.trim()}, ${NGINX_WORKERS} worker`
          : ''),
    );
    console.log('');
    console.log(
      `| path | c=1 p50 | c=1 p99 | added p50 | added p99 | c=${CONCURRENCY} req/s (rounds) | vs direct | TTFT p50 | TTFT p99 | added TTFT p50 | added TTFT p99 | proxy CPU ms / 1k req (c=${CONCURRENCY}) | proxy CPU ms / 1k streams | client CPU ms / 1k req |`,
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const p of paths) {
      const s = p.stats;
      const isDirect = p === paths[0];
      const l50 = percentile(s.latency, 50);
      const l99 = percentile(s.latency, 99);
      const s50 = percentile(s.ttft, 50);
      const s99 = percentile(s.ttft, 99);
      const cells = [
        p.name,
        `${f2(l50)} ms`,
        `${f2(l99)} ms`,
        isDirect ? '-' : `${f2(l50 - d50)} ms`,
        isDirect ? '-' : `${f2(l99 - d99)} ms`,
        `${f0(rps(s))} (${s.perRound.map(f0).join(' ')})`,
        `${(rps(s) / rps(direct)).toFixed(2)}x`,
        `${f2(s50)} ms`,
        `${f2(s99)} ms`,
        isDirect ? '-' : `${f2(s50 - t50)} ms`,
        isDirect ? '-' : `${f2(s99 - t99)} ms`,
        p.proxyCpu ? f0((s.proxyCpuMs * 1000) / s.requests) : '-',
        p.proxyCpu ? f0((s.streamProxyCpuMs * 1000) / s.streams) : '-',
        f0((s.clientCpuMs * 1000) / s.requests),
      ];
      console.log(`| ${cells.join(' | ')} |`);
    }
    console.log('');
    console.log(
      'Tails at c=1 (p99.9 / max): ' +
        paths
          .map(
            (p) =>
              `${p.name} ${f2(percentile(p.stats.latency, 99.9))} / ${f2(Math.max(...p.stats.latency))} ms, ` +
              `TTFT ${f2(percentile(p.stats.ttft, 99.9))} / ${f2(Math.max(...p.stats.ttft))} ms`,
          )
          .join('; '),
    );
    console.log('');
    if (gw) {
      const addedP50 = percentile(gw.latency, 50) - d50;
      const addedP99 = percentile(gw.latency, 99) - d99;
      const addedTtft99 = percentile(gw.ttft, 99) - t99;
      console.log('Goals (issue 6), gateway vs direct in this run:');
      console.log(
        `  added latency p50 at c=1   ${f2(addedP50)} ms   goal <= 1 ms   ${verdict(addedP50 <= 1)}`,
      );
      console.log(
        `  added latency p99 at c=1   ${f2(addedP99)} ms   goal <= 3 ms   ${verdict(addedP99 <= 3)}`,
      );
      if (nginxStats) {
        const ratio = rps(gw) / rps(nginxStats);
        console.log(
          `  throughput gateway/nginx   ${ratio.toFixed(2)}x      goal >= 0.5x   ${verdict(ratio >= 0.5)}`,
        );
      } else console.log('  throughput gateway/nginx   n/a (nginx not installed)');
      console.log(`  throughput gateway/direct  ${(rps(gw) / rps(direct)).toFixed(2)}x`);
      console.log(
        `  added TTFT p99             ${f2(addedTtft99)} ms   goal <= 2 ms   ${verdict(addedTtft99 <= 2)}`,
      );
      console.log(
        `  gateway CPU per 1,000 requests: ${f0((gw.proxyCpuMs * 1000) / gw.requests)} ms (non-streaming, c=${CONCURRENCY}), ` +
          `${f0((gw.streamProxyCpuMs * 1000) / gw.streams)} ms per 1,000 streams of ${MAX_TOKENS} tokens`,
      );
    } else console.log('Gateway path not measured: goals not evaluated.');

    if (troupe && PROFILE) {
      await troupe.stop(); // the profile is written when the process exits (stop() is idempotent)
      const dir = profileDir;
      // The windows, for analysing the profile again later (cpuprofile.ts <file> [rows] [windows.json phase]).
      writeFileSync(path.join(dir, 'windows.json'), JSON.stringify(gw!.windows));
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
        const file = path.join(dir, f);
        const phases = [
          ['cN', `non-streaming requests at c=${CONCURRENCY}`],
          ['c1', 'non-streaming requests at c=1'],
          ['stream', 'streams at c=1'],
        ] as const;
        for (const [phase, what] of phases) {
          console.log(`\nGateway CPU profile, ${what} (measurement windows only), ${file}:`);
          console.log(
            summarizeCpuProfile(
              file,
              25,
              gw!.windows.filter((w) => w.phase === phase),
            ),
          );
        }
      }
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e) => console.error(e));
    rmSync(tmp, { recursive: true, force: true });
  }
}

runBenchmark(main);
