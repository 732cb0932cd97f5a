/**
 * Autoscale benchmark: `npm run bench:autoscale` (builds first).
 *
 * One load profile through the real platform: the cluster simulator in this process (simulated vLLM
 * engines of finite capacity: `--max-num-seqs` = the policy's target, 20 ms per token), PostgreSQL and
 * Redis (found or started), s3rver, and one server process with every role (api, the gateway that
 * proxies /v1 and publishes its load to Redis, and the worker whose autoscaler loop scrapes the leaders,
 * decides with libs/autoscaler and scales the LWS). A closed-loop load generator keeps N requests in
 * flight through the gateway: 1× one group's target, then 4×, then idle.
 *
 * Prints the policy, a timeline (t, offered load, desired and ready groups, decision reason), the
 * autoscaler's decision events, the reaction times (load step -> first scale-up decision, -> LWS
 * raised, -> first new group ready, -> all ready) against a baseline measured in the same run (the
 * same LWS scaled 1 -> peak by hand straight on the simulator: what the cluster alone takes), and
 * writes an SVG chart (path printed). Short policy windows so that it runs in about three minutes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { startClusterSim } from '../../apps/cluster-sim/src';
import type { AutoscalingPolicy } from '../../libs/autoscaler/src';
import { freePort, startS3Server } from '../../libs/testing/src';
import { renderTimelineSvg } from './autoscale/chart';
import { reactionTimes, seconds, timelineTable, type Phase, type TimelineRow } from './autoscale/timeline';
import {
  apiClient,
  createBenchDatabase,
  createTinyModel,
  newAdminKey,
  platformEnv,
  ROOT as root,
  runBenchmark,
  startBenchStack,
  startServer,
  tinyService,
  waitReady,
  waitUntil,
} from './support/platform';

const NS = 'bench-as';
const SERVICE = 'bench';
const LWS_API = '/apis/leaderworkerset.x-k8s.io/v1';

/** One group's target and its engine's capacity (`--max-num-seqs`). */
const TARGET = 16;
const POLICY: AutoscalingPolicy = {
  enabled: true,
  minReplicas: 1,
  maxReplicas: 6,
  metric: 'concurrency',
  target: TARGET,
  stableWindowSeconds: 20,
  panicWindowSeconds: 4,
  panicThreshold: 2,
  scaleUpStabilizationSeconds: 0,
  scaleDownStabilizationSeconds: 20,
  maxScaleUpStep: 4,
  maxScaleDownStep: 1,
  scaleDownStepSeconds: 5,
  scaleToZero: { enabled: false, idleSeconds: 600 },
};
const PHASES: Phase[] = [
  { label: '1× target', seconds: 30, clients: TARGET },
  { label: '4× target', seconds: 60, clients: 4 * TARGET },
  { label: 'idle', seconds: 60, clients: 0 },
];
const TICK_MS = 1000;
const REDIS_DB = Number(process.env.BENCH_AUTOSCALE_REDIS_DB ?? 11);
const SIM = { podStartMs: 1000, podReadyMs: 2000, probePeriodMs: 200, engineTpotMs: 20, engineTtftMs: 20 };
const MAX_TOKENS = 100; // × 20 ms per token: a request takes about 2 s once it runs

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LwsState {
  at: number;
  desired: number;
  ready: number;
}

async function main() {
  const tmp = mkdtempSync(path.join(tmpdir(), 'troupe-bench-as-'));
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const s3 = await startS3Server({ directory: path.join(tmp, 's3'), bucket: 'bench' });
    cleanups.push(() => s3.stop());
    const kubeconfigPath = path.join(tmp, 'kubeconfig.yaml');
    const sim = await startClusterSim({ kubeconfigPath, nodes: 12, gpusPerNode: 8, racks: 2, ...SIM });
    cleanups.push(() => sim.close());
    const stack = await startBenchStack();
    cleanups.push(() => stack.stop());
    const db = await createBenchDatabase(stack, 'troupe_bench_as');
    cleanups.push(() => db.drop());

    // A Redis database of its own: the autoscaler's lease and the gateways' load keys are global names,
    // and other servers (dev, e2e runs) on the same Redis would otherwise hold the lease or add load.
    const redisUrl = new URL(stack.redisUrl);
    redisUrl.pathname = `/${REDIS_DB}`;
    const adminKey = newAdminKey();
    const port = await freePort();
    const server = await startServer({
      name: 'server',
      port,
      env: {
        ...platformEnv({ databaseUrl: db.url, redisUrl: redisUrl.toString(), s3, adminKey }),
        KUBECONFIG: kubeconfigPath,
        KUBE_NAMESPACE: NS,
        QUEUE_PREFIX: `bench-as-${port}`,
        ROLES: 'api,gateway,worker',
        AUTOSCALER_TICK_MS: String(TICK_MS),
      },
    });
    cleanups.push(() => server.stop());
    const base = server.url;
    const api = apiClient(base, adminKey);
    const { call } = api;
    const simCall = async (method: string, p: string, body?: unknown, contentType = 'application/json') => {
      const res = await fetch(sim.url + p, {
        method,
        headers: { 'content-type': contentType },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`sim ${method} ${p}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    const lwsState = async (name: string): Promise<LwsState> => {
      const lws = await simCall('GET', `${LWS_API}/namespaces/${NS}/leaderworkersets/${name}`);
      return { at: Date.now(), desired: lws.spec.replicas ?? 0, ready: lws.status?.readyReplicas ?? 0 };
    };

    await waitReady(server, 60_000);
    const project = await call('POST', '/api/v1/projects', { name: 'bench-autoscale' });
    const q = `?projectId=${project.id}`;
    await createTinyModel(api, project.id);
    const spec = tinyService(SERVICE, project.id, { maxNumSeqs: TARGET });
    await call('POST', '/api/v1/services', spec);
    await call('PUT', `/api/v1/services/${SERVICE}/autoscaling${q}`, POLICY);
    await waitUntil('the service READY with one group', 120_000, async () => {
      const s = await call('GET', `/api/v1/services/${SERVICE}${q}`);
      return s.status.phase === 'READY' && s.status.observed?.groups.ready === 1;
    });
    const key = (
      await call('POST', '/api/v1/api-keys', { name: 'bench', role: 'inference', projectId: project.id })
    ).key as string;
    const body = Buffer.from(
      JSON.stringify({
        model: SERVICE,
        messages: [{ role: 'user', content: 'Tell me about autoscaling.' }],
        max_tokens: MAX_TOKENS,
        ignore_eos: true,
      }),
    );
    const pool = new Pool(base, { connections: 4 * TARGET + 8, pipelining: 1, keepAliveTimeout: 60_000 });
    cleanups.push(() => pool.close());
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const chat = async (): Promise<number> => {
      const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
      await res.body.text();
      return res.statusCode;
    };
    let lastAnswer = '';
    await waitUntil('the gateway to route to the service', 60_000, async () => {
      const status = await chat().catch((e: Error) => e.message);
      lastAnswer = String(status);
      return status === 200;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; last answer: ${lastAnswer}`);
    });
    await waitUntil('a first autoscaler decision', 30_000, async () => {
      const s = await call('GET', `/api/v1/services/${SERVICE}${q}`);
      return s.scaling?.lastDecision != null;
    });

    // The load: client i keeps one request in flight while i < active.
    let active = 0;
    let running = true;
    const outcomes = new Map<string, number>();
    const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const clients = Array.from({ length: Math.max(...PHASES.map((p) => p.clients)) }, async (_, i) => {
      while (running) {
        if (i >= active) {
          await sleep(20);
          continue;
        }
        const status = await chat().catch((e: Error & { code?: string }) => e.code ?? e.message);
        count(String(status));
      }
    });

    // Observation: the LWS every 250 ms, the last decision every second.
    const lws: LwsState[] = [];
    const rows: TimelineRow[] = [];
    let reason: string | null = null;
    lws.push(await lwsState(SERVICE));
    const t0 = Date.now();
    let observing = true;
    const lwsPoll = (async () => {
      while (observing) {
        lws.push(
          await lwsState(SERVICE).catch(
            () => lws[lws.length - 1] ?? { at: Date.now(), desired: 0, ready: 0 },
          ),
        );
        await sleep(250);
      }
    })();
    const rowPoll = (async () => {
      while (observing) {
        const s = await call('GET', `/api/v1/services/${SERVICE}${q}`).catch(() => null);
        if (s) reason = s.scaling?.lastDecision?.reason ?? null;
        const l = lws[lws.length - 1];
        rows.push({
          t: Math.round((Date.now() - t0) / 1000),
          offered: active,
          desired: l?.desired ?? 0,
          ready: l?.ready ?? 0,
          reason,
        });
        await sleep(1000);
      }
    })();

    const marks: { t: number; label: string }[] = [];
    let stepAt = 0;
    let groupsBefore = 1;
    // 20 s into the 4× phase, the pods of any group not ready yet (for the report).
    const stuckPods: string[] = [];
    const inspect = async () => {
      const l = await lwsState(SERVICE);
      if (l.ready >= l.desired) return;
      const pods = await simCall(
        'GET',
        `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(`leaderworkerset.sigs.k8s.io/name=${SERVICE}`)}`,
      );
      for (const p of pods.items as {
        metadata: { name: string };
        spec: { nodeName?: string };
        status: {
          phase: string;
          conditions?: { type: string; status: string; reason?: string; message?: string }[];
        };
      }[]) {
        const ready = p.status.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status === 'True') continue;
        const why = p.status.conditions
          ?.filter((c) => c.status !== 'True')
          .map(
            (c) =>
              `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`,
          );
        stuckPods.push(
          `${p.metadata.name} ${p.status.phase} node=${p.spec.nodeName ?? '-'} ${why?.join('; ') ?? ''}`,
        );
      }
    };
    for (const [i, phase] of PHASES.entries()) {
      if (phase.clients === Math.max(...PHASES.map((p) => p.clients)))
        setTimeout(() => void inspect().catch(() => undefined), 20_000);
      if (i > 0 && phase.clients > PHASES[i - 1].clients && stepAt === 0) {
        stepAt = Date.now();
        groupsBefore = lws[lws.length - 1]?.desired ?? 1;
      }
      marks.push({ t: Math.round((Date.now() - t0) / 1000), label: phase.label });
      console.log(
        `t=${((Date.now() - t0) / 1000).toFixed(0)}s ${phase.label}: ${phase.clients} requests in flight for ${phase.seconds} s`,
      );
      active = phase.clients;
      await sleep(phase.seconds * 1000);
    }
    running = false;
    observing = false;
    await Promise.all([...clients, lwsPoll, rowPoll]);

    const events = (
      (await call('GET', `/api/v1/services/${SERVICE}/events${q}`)).data as {
        type: string;
        reason: string;
        message: string;
        createdAt: string;
      }[]
    )
      .map((e) => ({ ...e, at: Date.parse(e.createdAt) }))
      .filter((e) => e.at >= t0 && e.message.startsWith('autoscaler'))
      .sort((a, b) => a.at - b.at);
    const scaleUps = events.filter((e) => ['ScaleUp', 'PanicScaleUp'].includes(e.reason)).map((e) => e.at);
    const reaction = reactionTimes({ stepAt, groupsBefore, scaleUpDecisions: scaleUps, lws });

    // Groups asked for but never ready during the run: say what their pods were doing.
    if (stuckPods.length > 0) {
      console.log('\npods of groups that were asked for but not ready (seen during the 4× phase):');
      for (const p of stuckPods) console.log(`  ${p}`);
    }

    // Baseline, same run: the same LWS straight on the simulator, scaled 1 -> peak by hand.
    const manifest = (await call('POST', `/api/v1/services?dryRun=true`, { ...spec, name: 'baseline' }))
      .manifest;
    await simCall(
      'PATCH',
      `${LWS_API}/namespaces/${NS}/leaderworkersets/baseline?fieldManager=bench&force=true`,
      {
        ...manifest,
        metadata: { ...manifest.metadata, name: 'baseline', namespace: NS },
        spec: { ...manifest.spec, replicas: 1 },
      },
      'application/apply-patch+yaml',
    );
    await waitUntil('the baseline LWS ready', 60_000, async () => (await lwsState('baseline')).ready === 1);
    const b0 = Date.now();
    await simCall(
      'PATCH',
      `${LWS_API}/namespaces/${NS}/leaderworkersets/baseline`,
      { spec: { replicas: reaction.peakDesired } },
      'application/merge-patch+json',
    );
    let baselineFirst = 0;
    await waitUntil('the baseline LWS scaled', 60_000, async () => {
      const s = await lwsState('baseline');
      if (s.ready > 1 && baselineFirst === 0) baselineFirst = s.at - b0;
      return s.ready >= reaction.peakDesired;
    });
    const baselineAll = Date.now() - b0;

    // Report.
    console.log('\npolicy:', JSON.stringify(POLICY));
    console.log(
      `settings: AUTOSCALER_TICK_MS=${TICK_MS}; simulator ${JSON.stringify(SIM)}; engine --max-num-seqs ${TARGET}; ` +
        `requests: max_tokens ${MAX_TOKENS}, ignore_eos (about ${(MAX_TOKENS * SIM.engineTpotMs) / 1000} s each once running)`,
    );
    console.log(
      'profile:',
      PHASES.map((p) => `${p.label} (${p.clients} in flight) ${p.seconds} s`).join(' -> '),
    );
    console.log('\ntimeline (rows where nothing changed are folded):\n');
    console.log(timelineTable(rows, TARGET));
    console.log('\nautoscaler events:\n');
    for (const e of events)
      console.log(`  t=${((e.at - t0) / 1000).toFixed(1)}s ${e.type} ${e.reason}: ${e.message}`);
    const ratio = (x: number | null, b: number) =>
      x === null || b <= 0 ? '' : ` (${(x / b).toFixed(2)}× the baseline)`;
    console.log(`\nreaction to the load step 1× -> 4× (${groupsBefore} -> ${reaction.peakDesired} groups):`);
    console.log(`  load step -> first scale-up decision : ${seconds(reaction.toDecisionMs)}`);
    console.log(`  load step -> LWS spec.replicas raised: ${seconds(reaction.toActuationMs)}`);
    console.log(
      `  load step -> first new group ready   : ${seconds(reaction.toFirstReadyMs)}${ratio(reaction.toFirstReadyMs, baselineFirst)}`,
    );
    console.log(
      `  load step -> all groups ready        : ${seconds(reaction.toAllReadyMs)}${ratio(reaction.toAllReadyMs, baselineAll)}`,
    );
    console.log(
      `  baseline (same LWS scaled 1 -> ${reaction.peakDesired} by hand on the simulator): first new group ready ${seconds(baselineFirst)}, all ready ${seconds(baselineAll)}`,
    );
    const downs = events.filter((e) => e.reason === 'ScaleDown').map((e) => ((e.at - t0) / 1000).toFixed(1));
    const idleAt = marks[marks.length - 1].t;
    console.log(`  load drop at t=${idleAt}s -> scale-downs at t=${downs.join(', ') || 'none'} s`);
    console.log(
      `requests: ${[...outcomes.entries()].map(([k, v]) => `${k === '200' ? 'ok' : k}: ${v}`).join(', ')}`,
    );

    const outDir = path.join(root, '.bench');
    mkdirSync(outDir, { recursive: true });
    const svgPath = path.join(outDir, 'autoscale.svg');
    writeFileSync(
      svgPath,
      renderTimelineSvg(rows, {
        title: `Troupe autoscaler: ${PHASES.map((p) => p.label).join(' -> ')} (target ${TARGET}/group, stable ${POLICY.stableWindowSeconds} s, panic ${POLICY.panicWindowSeconds} s)`,
        target: TARGET,
        marks,
      }),
    );
    writeFileSync(
      path.join(outDir, 'autoscale.json'),
      JSON.stringify({ policy: POLICY, phases: PHASES, rows, events, reaction }, null, 2),
    );
    console.log(`\nchart: ${path.relative(process.cwd(), svgPath)} (data: .bench/autoscale.json)`);
  } finally {
    for (const c of cleanups.reverse()) await c().catch((e) => console.error(e));
    rmSync(tmp, { recursive: true, force: true });
  }
}

runBenchmark(main);
