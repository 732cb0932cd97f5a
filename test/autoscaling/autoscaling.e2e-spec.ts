import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AutoscalingRepository } from '../../libs/core/src/autoscaling/autoscaling.repository';
import { parsePrometheusText } from '../../libs/core/src/autoscaling/prometheus-text';
import { buildCheckpoint } from '../../libs/core/src/models/verification';
import { createProject, startTestApp, TestApp } from '../support/app';
import { uploadAndVerify } from '../support/checkpoint';
import { startTestCluster } from '../support/cluster';
import { startTestS3, TestS3 } from '../support/s3';
import { Endpoint, LoadGenerator, until } from './load';

/**
 * The group autoscaler end to end on the cluster simulator: engines with a finite capacity
 * (--max-num-seqs 4, 20 ms per token), the load generated straight at the leader pods (so the
 * offered load is exact), scale from zero through the gateway's /v1 (it holds, signals, releases), policy time running 10x faster than real time
 * (AUTOSCALER_CLOCK_RATE=10: a 60 s window passes in 6 s, a 200 ms tick is a 2 s policy tick).
 * The load-driven steps run once per engine (the autoscaler reads each one's own gauges); what does
 * not depend on the engine (ownership, actors, capacity, scale from zero) runs on vLLM.
 */
const NS = 'troupe-autoscale';
const RATE = 10;
const TARGET = 4; // requests per group; each engine runs 4 at once
const ENGINE_SPECS = {
  vllm: { image: 'vllm/vllm-openai:v0.11.0', maxModelLen: 2048, maxNumSeqs: TARGET },
  sglang: { kind: 'sglang', image: 'lmsysorg/sglang:v0.5.3', maxModelLen: 2048, maxNumSeqs: TARGET },
} as const;
type Engine = keyof typeof ENGINE_SPECS;

interface ServiceEvent {
  type: string;
  reason: string;
  message: string;
  data: { source?: string; desired?: number; current?: number; reason?: string; fence?: number } | null;
  createdAt: string;
}

describe('group autoscaler on the cluster simulator', () => {
  let s3: TestS3;
  let cluster: Awaited<ReturnType<typeof startTestCluster>>;
  let t: TestApp;
  let member: string;
  let inference: string;
  let redis: Redis;
  const apps: TestApp[] = [];
  const loads: LoadGenerator[] = [];
  const model = 'tiny';
  const endpoints = new Map<string, Endpoint[]>();
  let poller: NodeJS.Timeout | undefined;

  const env = () => ({
    ...s3.env,
    KUBECONFIG: cluster.kubeconfigFile,
    KUBE_NAMESPACE: NS,
    AUTOSCALER_TICK_MS: '200',
    AUTOSCALER_CLOCK_RATE: String(RATE),
    AUTOSCALER_LEASE_TTL_MS: '3000',
  });
  const policy = (extra: Record<string, unknown> = {}) => ({
    minReplicas: 1,
    maxReplicas: 4,
    metric: 'concurrency',
    target: TARGET,
    stableWindowSeconds: 60,
    panicWindowSeconds: 6,
    panicThreshold: 2,
    scaleUpStabilizationSeconds: 0,
    scaleDownStabilizationSeconds: 60,
    maxScaleUpStep: 4,
    maxScaleDownStep: 1,
    scaleDownStepSeconds: 20,
    ...extra,
  });
  const service = (
    name: string,
    autoscaling: Record<string, unknown> | undefined,
    initial = 1,
    engine: Engine = 'vllm',
  ) => ({
    name,
    model,
    version: 'v1',
    parallelism: { tensor: 8, pipeline: 2 }, // two 8-GPU pods per group
    gpusPerNode: 8,
    replicas: { initial, min: 0, max: 8 },
    engine: ENGINE_SPECS[engine],
    ...(autoscaling ? { autoscaling } : {}),
  });
  const get = async (name: string) => {
    const r = await t.call('GET', `/api/v1/services/${name}`, { key: member });
    if (r.status !== 200) throw new Error(`GET ${name}: ${r.status} ${r.text}`);
    return r.body;
  };
  const events = async (name: string): Promise<ServiceEvent[]> =>
    ((await t.call('GET', `/api/v1/services/${name}/events`, { key: member })).body.data as ServiceEvent[])
      .slice()
      .reverse(); // oldest first
  const scaleEvents = async (name: string, since = 0) =>
    (await events(name)).filter(
      (e) =>
        e.data?.source === 'autoscaler' &&
        e.data.desired !== e.data.current &&
        Date.parse(e.createdAt) >= since,
    );
  const lws = async (name: string) => {
    const r = await cluster.sim(
      'GET',
      `/apis/leaderworkerset.x-k8s.io/v1/namespaces/${NS}/leaderworkersets/${name}`,
    );
    return (await r.json()) as {
      spec: { replicas: number };
      status?: { readyReplicas?: number };
      metadata: { managedFields?: { manager: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }[] };
    };
  };
  const replicasManagers = async (name: string) =>
    ((await lws(name)).metadata.managedFields ?? [])
      .filter((m) => m.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined)
      .map((m) => m.manager);
  const readyGroups = async (name: string) => (await get(name)).status.observed?.groups.ready ?? 0;
  const loadFor = (name: string) => {
    const g = new LoadGenerator(() => endpoints.get(name) ?? [], { model: name, maxTokens: 40 });
    loads.push(g);
    return g;
  };
  const follow = (names: string[]) => {
    clearInterval(poller);
    poller = setInterval(() => {
      for (const name of names) {
        void t
          .call('GET', `/api/v1/services/${name}`, { key: member })
          .then((r) => {
            if (r.status === 200) endpoints.set(name, r.body.status.observed?.leaderEndpoints ?? []);
          })
          .catch(() => undefined);
      }
    }, 150);
  };
  const leaderGauge = async (app: TestApp) => {
    const text = (await app.call('GET', '/metrics')).text;
    return parsePrometheusText(text).find((s) => s.name === 'troupe_autoscaler_leader')?.value;
  };

  beforeAll(async () => {
    s3 = await startTestS3();
    // 8 nodes x 8 GPUs: room for 4 groups of 2 pods.
    cluster = await startTestCluster({ nodes: 8, podStartMs: 200, podReadyMs: 300, engineTpotMs: 20 });
    t = await startTestApp(env());
    apps.push(t);
    redis = new Redis(inject('redisUrl'));
    const project = await createProject(t, 'as', ['member', 'inference']);
    member = project.keys.member.key;
    inference = project.keys.inference.key;
    await t.call('POST', '/api/v1/models', { key: member, body: { name: model } });
    const v1 = buildCheckpoint({ layers: 4, hidden: 64, heads: 16, kvHeads: 8, shards: 2 });
    expect((await uploadAndVerify(t, member, model, 'v1', v1)).state).toBe('READY');
  });
  afterAll(async () => {
    clearInterval(poller);
    await Promise.all(loads.map((l) => l.stop()));
    for (const app of apps) await app.close().catch(() => undefined);
    await redis?.quit();
    await cluster?.stop();
    await s3?.stop();
  });

  describe('policy API', () => {
    it('answers 422 naming the field for a bad policy, on PUT and on create', async () => {
      const created = await t.call('POST', '/api/v1/services', {
        key: member,
        body: service('api', undefined),
      });
      expect(created.status).toBe(202);
      const bad = await t.call('PUT', '/api/v1/services/api/autoscaling', {
        key: member,
        body: { minReplicas: 5, maxReplicas: 2, metric: 'tokens' },
      });
      expect(bad.status).toBe(422);
      expect(bad.body.error.issues.map((i: { field: string }) => i.field)).toContain('metric');
      const cross = await t.call('PUT', '/api/v1/services/api/autoscaling', {
        key: member,
        body: { minReplicas: 5, maxReplicas: 2 },
      });
      expect(cross.status).toBe(422);
      expect(cross.body.error.issues.map((i: { field: string }) => i.field)).toEqual(['minReplicas']);
      const onCreate = await t.call('POST', '/api/v1/services', {
        key: member,
        body: service('api2', { target: -1 }),
      });
      expect(onCreate.status).toBe(422);
      expect(onCreate.body.error.issues[0].field).toBe('autoscaling.target');
      expect((await t.call('GET', '/api/v1/services/api2', { key: member })).status).toBe(404);
      const scale = await t.call('POST', '/api/v1/services/api/scale', {
        key: member,
        body: { replicas: 100 },
      });
      expect(scale.status).toBe(422);
      expect(scale.body.error.issues[0].field).toBe('replicas');
      expect(
        (await t.call('POST', '/api/v1/services/nope/scale', { key: member, body: { replicas: 1 } })).status,
      ).toBe(404);
    });

    it('shows who owns the groups: spec, then autoscaler, then admin; {enabled:false} gives them back to the spec', async () => {
      expect((await get('api')).scaling).toMatchObject({ owner: 'spec', pinnedReplicas: null, policy: null });
      const on = await t.call('PUT', '/api/v1/services/api/autoscaling', {
        key: member,
        body: { maxReplicas: 3 },
      });
      expect(on.status).toBe(200);
      expect(on.body.scaling).toMatchObject({
        owner: 'autoscaler',
        policy: { enabled: true, minReplicas: 1, maxReplicas: 3 },
      });
      const pinned = await t.call('POST', '/api/v1/services/api/scale', {
        key: member,
        body: { replicas: 0 },
      });
      expect(pinned.status).toBe(202);
      expect(pinned.body.scaling).toMatchObject({ owner: 'admin', pinnedReplicas: 0 });
      const off = await t.call('PUT', '/api/v1/services/api/autoscaling', {
        key: member,
        body: { enabled: false },
      });
      expect(off.body.scaling).toMatchObject({
        owner: 'spec',
        pinnedReplicas: null,
        policy: { enabled: false, maxReplicas: 3 },
      });
      const reasons = (await events('api')).map((e) => e.reason);
      expect(reasons).toEqual(
        expect.arrayContaining(['AutoscalingEnabled', 'ScaledManually', 'AutoscalingDisabled']),
      );
      await t.call('DELETE', '/api/v1/services/api', { key: member });
    });
  });

  describe.each(Object.keys(ENGINE_SPECS) as Engine[])('one %s service under changing load', (engine) => {
    const name = `chat-${engine}`;
    let gen: LoadGenerator;
    beforeAll(async () => {
      const created = await t.call('POST', '/api/v1/services', {
        key: member,
        body: service(name, policy(), 1, engine),
      });
      expect(created.status).toBe(202);
      expect(created.body.scaling.owner).toBe('autoscaler');
      follow([name]);
      await until(`${name} READY with 1 group`, async () => (await readyGroups(name)) === 1, 30_000);
      gen = loadFor(name);
    });

    it("load steps from 1x to 4x one group's target: groups go 1 -> 4, first by a panic decision", async () => {
      gen.setConcurrency(TARGET); // 1x: one group is enough
      await sleep(2_000);
      expect((await lws(name)).spec.replicas).toBe(1);
      const step = Date.now();
      gen.setConcurrency(4 * TARGET);
      const first = await until(
        'a scale-up decision',
        async () => (await scaleEvents(name, step))[0],
        30_000,
      );
      await until('4 ready groups', async () => (await readyGroups(name)) === 4, 30_000);
      const allReady = Date.now();
      // Reacting on the panic window: the first decision adds groups at once (one tick may see the
      // burst half-built and add fewer; the next adds the rest).
      expect(first.reason).toBe('PanicScaleUp');
      expect(first.data!.current).toBe(1);
      expect(first.data!.desired).toBeGreaterThanOrEqual(2);
      const ups = (await scaleEvents(name, step)).map((e) => e.data!.desired);
      expect(ups.at(-1)).toBe(4);
      console.log(
        `${engine}: step 1x -> 4x: first decision after ${Date.parse(first.createdAt) - step} ms, 4 groups ready after ${allReady - step} ms`,
      );
      expect((await lws(name)).spec.replicas).toBe(4);
      expect(await replicasManagers(name)).toEqual(['troupe-autoscaler']);
      const shown = (await get(name)).scaling;
      expect(shown.owner).toBe('autoscaler');
      expect(shown.lastDecision).toMatchObject({ inputs: { metric: 'concurrency', target: TARGET } });
    });

    it('load drops: back to 1 group only after the scale-down window, one group per step', async () => {
      const drop = Date.now();
      gen.setConcurrency(2);
      await until('1 group', async () => (await lws(name)).spec.replicas === 1, 60_000, 200);
      const downs = (await scaleEvents(name, drop)).filter((e) => e.reason === 'ScaleDown');
      expect(downs.map((e) => [e.data!.current, e.data!.desired])).toEqual([
        [4, 3],
        [3, 2],
        [2, 1],
      ]);
      // Policy time runs 10x: the 60 s scale-down window is 6 s of real time at least.
      expect(Date.parse(downs[0].createdAt) - drop).toBeGreaterThanOrEqual((60 * 1000) / RATE);
      for (let i = 1; i < downs.length; i++) {
        expect(Date.parse(downs[i].createdAt) - Date.parse(downs[i - 1].createdAt)).toBeGreaterThanOrEqual(
          (20 * 1000) / RATE - 250,
        );
      }
    });

    it("metric waiting: the engine's queue gauge alone drives a scale-up", async () => {
      const set = await t.call('PUT', `/api/v1/services/${name}/autoscaling`, {
        key: member,
        body: { metric: 'waiting', target: 2 },
      });
      expect(set.status).toBe(200);
      const since = Date.now();
      gen.setConcurrency(3 * TARGET); // one group runs 4, queues 8
      const up = await until(
        'a scale-up on the queue',
        async () => (await scaleEvents(name, since))[0],
        30_000,
      );
      expect(up.data!.current).toBe(1);
      expect(up.data!.desired).toBeGreaterThanOrEqual(2);
      expect((await get(name)).scaling.lastDecision.inputs).toMatchObject({ metric: 'waiting', target: 2 });
    });

    afterAll(async () => {
      await gen?.stop();
      await t.call('DELETE', `/api/v1/services/${name}`, { key: member });
      await until(`${name} deleted`, async () => (await get(name)).status.phase === 'DELETED', 30_000);
    });
  });

  describe('ownership and actors under load (vLLM)', () => {
    let gen: LoadGenerator;
    beforeAll(async () => {
      const created = await t.call('POST', '/api/v1/services', {
        key: member,
        body: service('chat', policy()),
      });
      expect(created.status).toBe(202);
      expect(created.body.scaling.owner).toBe('autoscaler');
      follow(['chat']);
      await until('chat READY with 1 group', async () => (await readyGroups('chat')) === 1, 30_000);
      gen = loadFor('chat');
    });

    it('steady noisy load does not make the groups oscillate', async () => {
      const start = Date.now();
      // Around 2 groups' worth (5..11 requests against a target of 4): each tick alone asks for 2 or 3.
      const until = start + 20_000; // 200 s of policy time
      while (Date.now() < until) {
        gen.setConcurrency(5 + Math.floor(Math.random() * 7));
        await sleep(300);
      }
      const changes = (await scaleEvents('chat', start)).map((e) => e.data!.desired! - e.data!.current!);
      // Up (possibly in more than one step) and then stay: never up, down and up again.
      const directions = changes.map(Math.sign).filter((d, i, all) => i === 0 || d !== all[i - 1]);
      expect(directions.length).toBeLessThanOrEqual(1);
      expect(directions[0] ?? 1).toBe(1);
      console.log(`noisy load: ${changes.length} change(s) in 20 s (${changes.join(', ')})`);
    });

    it("reconcile with autoscaling on keeps the autoscaler's replicas (spec.replicas stays with troupe-autoscaler)", async () => {
      gen.setConcurrency(3 * TARGET);
      await until('3 groups', async () => (await lws('chat')).spec.replicas === 3, 30_000);
      // A spec change reconciles the LWS; its replicas.initial (1) must not reset the groups.
      const patched = await t.call('PATCH', '/api/v1/services/chat', {
        key: member,
        body: { replicas: { initial: 1, min: 0, max: 8 } },
      });
      expect(patched.status).toBe(202);
      const generation = patched.body.generation;
      await until(
        'the new generation applied',
        async () => (await get('chat')).status.appliedGeneration === generation,
      );
      await sleep(1_000);
      expect((await lws('chat')).spec.replicas).toBe(3);
      expect(await replicasManagers('chat')).toEqual(['troupe-autoscaler']);
    });

    it('manual scale pins the groups and pauses autoscaling; resume gives them back to the autoscaler', async () => {
      const pinned = await t.call('POST', '/api/v1/services/chat/scale', {
        key: member,
        body: { replicas: 1 },
      });
      expect(pinned.status).toBe(202);
      expect(pinned.body.scaling).toMatchObject({ owner: 'admin', pinnedReplicas: 1 });
      await until('pinned at 1', async () => (await lws('chat')).spec.replicas === 1, 20_000);
      const since = Date.now();
      await sleep(3_000); // 30 s of policy time under 3 groups' worth of load
      expect((await lws('chat')).spec.replicas).toBe(1);
      expect(await scaleEvents('chat', since)).toEqual([]);
      expect(await replicasManagers('chat')).toEqual(['troupe-reconciler']);

      const resumed = await t.call('PUT', '/api/v1/services/chat/autoscaling', { key: member, body: {} });
      expect(resumed.status).toBe(200);
      expect(resumed.body.scaling).toMatchObject({ owner: 'autoscaler', pinnedReplicas: null });
      await until(
        'the autoscaler scales up again',
        async () => (await lws('chat')).spec.replicas >= 3,
        20_000,
      );
      expect(await replicasManagers('chat')).toEqual(['troupe-autoscaler']);
    });

    it('two worker processes: one actor; when it stops, the other takes over with a greater fence', async () => {
      const second = await startTestApp({ ...env(), QUEUE_PREFIX: t.config.queue.prefix });
      apps.push(second);
      await sleep(2_000); // several lease renewals
      expect(await leaderGauge(t)).toBe(1);
      expect(await leaderGauge(second)).toBe(0);
      const before = (await events('chat')).filter((e) => e.data?.fence !== undefined).at(-1)!.data!.fence!;

      // The first process stops (releasing its lease); the API moves to the second process.
      const first = t;
      t = second;
      await first.close();
      apps.splice(apps.indexOf(first), 1);
      await until('the second process leads', async () => (await leaderGauge(second)) === 1, 10_000);
      gen.setConcurrency(TARGET);
      const since = Date.now();
      const down = await until(
        'a decision by the new actor',
        async () => (await scaleEvents('chat', since))[0],
        60_000,
        200,
      );
      expect(down.data!.fence!).toBeGreaterThan(before);

      // A stale actor (the old fence) can no longer write the service's autoscaler state.
      const repo = second.app.get(AutoscalingRepository);
      const chat = await get('chat');
      const stale = { ...chat.scaling.lastDecision, desired: 1, fence: before };
      expect(await repo.saveState(chat.id, stale, before)).toBe(false);
      const stored = (await repo.findById(chat.id))!.autoscalerState as { fence: number };
      expect(stored.fence).toBeGreaterThan(before);
    });

    afterAll(async () => {
      if (process.env.AUTOSCALE_E2E_DEBUG)
        console.log(
          (await events('chat'))
            .map((e) => `${e.createdAt} ${e.reason} ${e.message} ${JSON.stringify(e.data)}`)
            .join('\n'),
        );
      await gen?.stop();
      await t.call('DELETE', '/api/v1/services/chat', { key: member });
      await until('chat deleted', async () => (await get('chat')).status.phase === 'DELETED', 30_000);
    });
  });

  describe('capacity', () => {
    it('with GPUs for only 2 groups it stays there, says why, and does not ask for more', async () => {
      for (const n of [4, 5, 6, 7]) await cluster.sim('POST', `/sim/nodes/node-${n}/down`);
      const created = await t.call('POST', '/api/v1/services', {
        key: member,
        body: service('tight', policy({ maxReplicas: 6, maxScaleUpStep: 1 })),
      });
      expect(created.status).toBe(202);
      follow(['tight']);
      await until('tight READY', async () => (await readyGroups('tight')) === 1, 30_000);
      const gen = loadFor('tight');
      gen.setConcurrency(6 * TARGET);
      const hold = await until(
        'a capacity hold',
        async () => (await events('tight')).find((e) => e.reason === 'HoldCapacity'),
        30_000,
      );
      expect(hold.type).toBe('Warning');
      expect(hold.message).toMatch(/could not place/);
      expect(hold.message).toMatch(/Insufficient nvidia.com\/gpu|nodes are available/);
      const asked = (await lws('tight')).spec.replicas;
      await sleep(3_000); // 30 s of policy time under 6 groups' worth of load
      expect((await lws('tight')).spec.replicas).toBe(asked);
      expect(asked).toBe(3); // 2 placed + 1 that cannot be: no more
      expect(await readyGroups('tight')).toBe(2);
      expect((await get('tight')).scaling.lastDecision.reason).toBe('hold-capacity');
      await gen.stop();
      for (const n of [4, 5, 6, 7]) await cluster.sim('POST', `/sim/nodes/node-${n}/up`);
      await t.call('DELETE', '/api/v1/services/tight', { key: member });
    });
  });

  describe('scale to zero', () => {
    let id: string;
    const toZero = () =>
      until(
        'sleepy at 0 groups, none ready',
        async () =>
          (await lws('sleepy').catch(() => null))?.spec?.replicas === 0 &&
          (await readyGroups('sleepy')) === 0,
        30_000,
        200,
      );

    it('goes to zero when idle; requests through the gateway are held, a group starts, all of them succeed', async () => {
      const created = await t.call('POST', '/api/v1/services', {
        key: member,
        body: service('sleepy', policy({ minReplicas: 0, scaleToZero: { enabled: true, idleSeconds: 30 } })),
      });
      expect(created.status).toBe(202);
      id = created.body.id as string;
      follow(['sleepy']);
      await toZero();
      const zero = (await events('sleepy')).find((e) => e.reason === 'ScaleToZero');
      expect(zero?.message).toMatch(/No request/);
      expect((await get('sleepy')).status.phase).toBe('READY');

      const client = new OpenAI({ apiKey: inference, baseURL: `${t.url}/v1`, maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: 'wake up' }];
      const sent = Date.now();
      const plain = Array.from({ length: 4 }, () =>
        client.chat.completions.create({ model: 'sleepy', messages, max_tokens: 4 }),
      );
      const streamed = (async () => {
        const stream = await client.chat.completions.create({
          model: 'sleepy',
          messages,
          max_tokens: 4,
          stream: true,
        });
        let chunks = 0;
        for await (const _ of stream) chunks++;
        return chunks;
      })();
      const results = await Promise.allSettled([...plain, streamed]);
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      for (const r of results.slice(0, 4))
        expect((r as PromiseFulfilledResult<{ object: string }>).value.object).toBe('chat.completion');
      expect((results[4] as PromiseFulfilledResult<number>).value).toBeGreaterThan(0);
      const wake = (await events('sleepy')).find((e) => e.reason === 'WakeFromZero');
      expect(wake?.data).toMatchObject({ current: 0 });
      expect(wake!.data!.desired).toBeGreaterThanOrEqual(1);
      console.log(
        `scale from zero through the gateway: 5 held requests answered after ${Date.now() - sent} ms`,
      );
    });

    it("a wake signal on Redis alone (the gateway's contract) starts a group", async () => {
      await toZero();
      const woke = Date.now();
      await redis.publish('troupe:autoscaler:wake', JSON.stringify({ serviceId: id, at: woke }));
      await until('a ready group', async () => (await readyGroups('sleepy')) >= 1, 30_000);
      const wakes = (await events('sleepy')).filter((e) => e.reason === 'WakeFromZero');
      expect(wakes.length).toBe(2);
      expect(Date.parse(wakes[1].createdAt)).toBeGreaterThanOrEqual(woke);
      console.log(`wake signal: group ready after ${Date.now() - woke} ms`);
    });
  });
});
