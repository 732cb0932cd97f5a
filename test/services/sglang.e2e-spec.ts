import OpenAI from 'openai';
import { RoutingTable, ServiceTable } from '@troupe/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckpoint } from '../../libs/core/src/models/verification';
import { LoadGenerator, type Endpoint } from '../autoscaling/load';
import { createProject, startTestApp, TestApp } from '../support/app';
import { uploadAndVerify } from '../support/checkpoint';
import { clusterKind, startTestCluster } from '../support/cluster';
import { startTestS3, TestS3 } from '../support/s3';
import { pollUntil } from '../support/until';

/**
 * An SGLang service end to end, on the simulator or the upstream control plane: every pod of a
 * group runs sglang.launch_server, the leader (rank 0) serves; the gateway routes to it, the
 * autoscaler reads its sglang:* gauges, a failed worker takes its group down and back up together,
 * and a vLLM service runs beside it in the same project.
 */
const NS = 'troupe-sglang';
const TARGET = 4; // requests per group: each engine runs 4 at once

const until = <T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 30_000) =>
  pollUntil(what, fn, timeoutMs, 100);

interface Pod {
  metadata: { name: string; uid: string };
  status?: { phase?: string; podIP?: string };
}

describe(`SGLang services (${clusterKind()})`, () => {
  let s3: TestS3;
  let cluster: Awaited<ReturnType<typeof startTestCluster>>;
  let t: TestApp;
  let member: string;
  let inference: string;
  let client: OpenAI;
  const model = 'tiny';
  const endpoints = new Map<string, Endpoint[]>();
  let poller: NodeJS.Timeout | undefined;
  let load: LoadGenerator | undefined;

  const sglang = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    model,
    version: 'v1',
    parallelism: { tensor: 8, pipeline: 2 }, // two 8-GPU pods per group
    gpusPerNode: 8,
    replicas: { initial: 1, min: 1, max: 3 },
    engine: { kind: 'sglang', image: 'lmsysorg/sglang:v0.5.3', maxModelLen: 2048, maxNumSeqs: TARGET },
    ...extra,
  });
  const get = async (name: string) => (await t.call('GET', `/api/v1/services/${name}`, { key: member })).body;
  const pods = async (name: string): Promise<Pod[]> => {
    const r = await cluster.sim(
      'GET',
      `/api/v1/namespaces/${NS}/pods?labelSelector=leaderworkerset.sigs.k8s.io/name=${name}`,
    );
    return ((await r.json()) as { items: Pod[] }).items.sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    );
  };
  const lwsReplicas = async (name: string): Promise<number | undefined> => {
    const r = await cluster.sim(
      'GET',
      `/apis/leaderworkerset.x-k8s.io/v1/namespaces/${NS}/leaderworkersets/${name}`,
    );
    return r.status === 200 ? ((await r.json()) as { spec: { replicas: number } }).spec.replicas : undefined;
  };
  const engines = async () =>
    (
      (await (await cluster.sim('GET', '/sim/engines')).json()) as {
        items: { engine: string; namespace: string; pod: string; models: string[]; ready: boolean }[];
      }
    ).items.filter((e) => e.namespace === NS);
  const readyPhase = (name: string, groups: number) =>
    until(
      `${name} READY with ${groups} group(s)`,
      async () => {
        const s = await get(name);
        return (
          s.status.phase === 'READY' &&
          s.status.observed?.groups.ready === groups &&
          s.status.observed.leaderEndpoints.length === groups &&
          s
        );
      },
      60_000,
    );
  const routedEndpoints = (name: string) => {
    const svc = t.app.get(ServiceTable).services.find((s) => s.name === name);
    return svc ? (t.app.get(RoutingTable).route(svc.id)?.endpoints ?? []) : [];
  };

  beforeAll(async () => {
    s3 = await startTestS3();
    // 8 nodes x 8 GPUs: 3 SGLang groups of 2 pods and 1 vLLM group of 2 pods.
    cluster = await startTestCluster({ nodes: 8, podStartMs: 100, podReadyMs: 200, engineTpotMs: 20 });
    t = await startTestApp({
      ...s3.env,
      KUBECONFIG: cluster.kubeconfigFile,
      KUBE_NAMESPACE: NS,
      AUTOSCALER_TICK_MS: '200',
      AUTOSCALER_CLOCK_RATE: '10',
      GATEWAY_SCRAPE_INTERVAL_MS: '200',
      GATEWAY_USAGE_FLUSH_MS: '100',
    });
    const project = await createProject(t, 'sgl', ['member', 'inference']);
    member = project.keys.member.key;
    inference = project.keys.inference.key;
    client = new OpenAI({ apiKey: inference, baseURL: `${t.url}/v1`, maxRetries: 0 });
    await t.call('POST', '/api/v1/models', { key: member, body: { name: model } });
    const files = buildCheckpoint({ layers: 4, hidden: 64, heads: 16, kvHeads: 8, shards: 2 });
    expect((await uploadAndVerify(t, member, model, 'v1', files)).state).toBe('READY');
    poller = setInterval(() => {
      for (const name of ['chat']) {
        void t
          .call('GET', `/api/v1/services/${name}`, { key: member })
          .then((r) => {
            if (r.status === 200) endpoints.set(name, r.body.status.observed?.leaderEndpoints ?? []);
          })
          .catch(() => undefined);
      }
    }, 150);
  });
  afterAll(async () => {
    clearInterval(poller);
    await load?.stop();
    await t?.close();
    await cluster?.stop();
    await s3?.stop();
  });

  describe('the spec', () => {
    it('renders SGLang’s multi-node launch: every pod runs sglang.launch_server, only the leader serves', async () => {
      const r = await t.call('POST', '/api/v1/services?dryRun=true', { key: member, body: sglang('dry') });
      expect(r.status).toBe(200);
      expect(r.body.spec.engine.kind).toBe('sglang');
      const lwt = r.body.manifest.spec.leaderWorkerTemplate;
      expect(lwt.size).toBe(2);
      expect(lwt.restartPolicy).toBe('RecreateGroupOnPodRestart');
      const leader = lwt.leaderTemplate.spec.containers[0];
      const worker = lwt.workerTemplate.spec.containers[0];
      expect(leader.command.slice(0, 3)).toEqual(['python3', '-m', 'sglang.launch_server']);
      expect(leader.command.join(' ')).toContain(
        '--tp 8 --pp-size 2 --nnodes 2 --node-rank $(LWS_WORKER_INDEX) --dist-init-addr $(LWS_LEADER_ADDRESS):20000',
      );
      expect(worker.command).toEqual(leader.command);
      expect(leader.ports).toEqual([{ name: 'http', containerPort: 30000, protocol: 'TCP' }]);
      expect(leader.readinessProbe.httpGet.path).toBe('/health');
      expect(worker.ports).toBeUndefined();
      expect(worker.readinessProbe).toBeUndefined();
    });

    it.each<[string, Record<string, unknown>, number, string]>([
      ['an engine it does not know', { engine: { kind: 'tgi', image: 'i' } }, 400, 'engine.kind'],
      [
        'a flag the platform owns',
        { engine: { kind: 'sglang', image: 'i', extraArgs: ['--log-requests', '--tp', '2'] } },
        422,
        'engine.extraArgs[1]',
      ],
      [
        'restartPolicy None for a multi-pod group',
        { placement: { restartPolicy: 'None' } },
        422,
        'placement.restartPolicy',
      ],
    ])('refuses %s, naming the field', async (_what, extra, status, field) => {
      const r = await t.call('POST', '/api/v1/services', { key: member, body: sglang('bad', extra) });
      expect(r.status).toBe(status);
      expect(r.body.error.issues.map((i: { field: string }) => i.field)).toContain(field);
    });

    it('the OpenAPI document offers engine.kind vllm | sglang', async () => {
      const doc = (await t.call('GET', '/api/docs/json')).body;
      const body = doc.paths['/api/v1/services'].post.requestBody.content['application/json'].schema;
      expect(body.properties.engine.properties.kind).toMatchObject({ enum: ['vllm', 'sglang'] });
    });
  });

  describe('one SGLang service', () => {
    it('is created and READY: the leader of each group runs an SGLang engine on 30000, its worker none', async () => {
      const created = await t.call('POST', '/api/v1/services', {
        key: member,
        body: sglang('chat', {
          autoscaling: {
            minReplicas: 1,
            maxReplicas: 3,
            metric: 'concurrency',
            target: TARGET,
            stableWindowSeconds: 60,
            panicWindowSeconds: 6,
            panicThreshold: 2,
            maxScaleUpStep: 3,
          },
        }),
      });
      expect(created.status).toBe(202);
      const ready = await readyPhase('chat', 1);
      expect(ready.status.observed.leaderEndpoints[0]).toMatchObject({ pod: 'chat-0', port: 30000 });
      expect((await pods('chat')).map((p) => p.metadata.name)).toEqual(['chat-0', 'chat-0-1']);
      const running = await engines();
      expect(running.map((e) => [e.pod, e.engine, e.models])).toEqual([['chat-0', 'sglang', ['chat']]]);
      const events = (await t.call('GET', '/api/v1/services/chat/events', { key: member })).body.data;
      expect(events.find((e: { reason: string }) => e.reason === 'Created').message).toMatch(/SGLang/);
    });

    it('answers chat and streamed chat through the gateway with the OpenAI SDK', async () => {
      const r = await client.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'hello there' }],
        max_tokens: 5,
      });
      expect(r.object).toBe('chat.completion');
      expect(r.model).toBe('chat');
      expect(r.choices[0].message.content?.trim().split(' ')).toHaveLength(5);
      expect(r.choices[0]).toHaveProperty('matched_stop'); // SGLang's answer, relayed as is
      expect(r.usage).toMatchObject({ completion_tokens: 5 });

      for (const includeUsage of [false, true]) {
        const stream = await client.chat.completions.create({
          model: 'chat',
          messages: [{ role: 'user', content: 'stream please' }],
          max_tokens: 4,
          stream: true,
          ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        });
        let text = '';
        let finish: string | null = null;
        let usage: OpenAI.CompletionUsage | null | undefined;
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta.content ?? '';
          finish = chunk.choices[0]?.finish_reason ?? finish;
          usage = chunk.usage ?? usage;
        }
        expect(text.trim().split(' ')).toHaveLength(4);
        expect(finish).toBe('length'); // from SGLang's separate finish chunk
        // The gateway asks SGLang for usage either way, and passes the usage chunk on only when asked.
        if (includeUsage) expect(usage).toMatchObject({ completion_tokens: 4 });
        else expect(usage).toBeFalsy();
      }
      // SGLang's flat error body reaches OpenAI clients nested, its message kept.
      const tooLong = await client.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: 'w '.repeat(2100) }], max_tokens: 1 })
        .catch((e: unknown) => e);
      expect(tooLong).toBeInstanceOf(OpenAI.BadRequestError);
      expect((tooLong as Error).message).toMatch(
        /^400 The input \(\d+ tokens\) is longer than the model's context length \(2048 tokens\)/,
      );
      // Accounted from SGLang's usage (batched to PostgreSQL about once a second).
      const row = await until('usage recorded', async () => {
        const usage = await t.call('GET', '/api/v1/usage?groupBy=service', { key: member });
        const r = usage.body.data.find((d: { serviceName: string }) => d.serviceName === 'chat');
        return r?.requests === 4 && r;
      });
      expect(row).toMatchObject({ requests: 4, completionTokens: 5 + 4 + 4 });
    });

    it('the gateway reads the SGLang queue gauge for its tie-break', async () => {
      // Scraped every 200 ms: a number (0), where vLLM's names would have left it undefined.
      await until('a scraped queue length', async () => routedEndpoints('chat')[0]?.waiting === 0);
    });

    it('autoscales 1 -> 3 groups on load, reading sglang:* gauges', async () => {
      load = new LoadGenerator(() => endpoints.get('chat') ?? [], { model: 'chat', maxTokens: 40 });
      load.setConcurrency(3 * TARGET);
      await until('3 groups asked for', async () => (await lwsReplicas('chat')) === 3, 60_000);
      await readyPhase('chat', 3);
      const decisions = (
        await t.call('GET', '/api/v1/services/chat/events', { key: member })
      ).body.data.filter(
        (e: { data: { source?: string; desired?: number; current?: number } | null }) =>
          e.data?.source === 'autoscaler' && e.data.desired !== e.data.current,
      );
      expect(decisions.length).toBeGreaterThan(0);
      expect(decisions.at(0).data.desired).toBe(3); // the newest decision
      expect((await get('chat')).scaling.lastDecision.inputs).toMatchObject({ metric: 'concurrency' });
      expect((await engines()).filter((e) => e.engine === 'sglang').map((e) => e.pod)).toEqual([
        'chat-0',
        'chat-1',
        'chat-2',
      ]);
      expect(load.stats.errors).toBe(0);
    });

    it('a pin holds the groups against the load', async () => {
      const pinned = await t.call('POST', '/api/v1/services/chat/scale', {
        key: member,
        body: { replicas: 1 },
      });
      expect(pinned.status).toBe(202);
      expect(pinned.body.scaling).toMatchObject({ owner: 'admin', pinnedReplicas: 1 });
      await until('pinned at 1', async () => (await lwsReplicas('chat')) === 1);
      await readyPhase('chat', 1);
      await new Promise((r) => setTimeout(r, 2_000)); // 20 s of policy time under 3 groups' worth of load
      expect(await lwsReplicas('chat')).toBe(1);
      await load?.stop();
      load = undefined;
    });

    it('a failed worker takes its group down and back up together (RecreateGroupOnPodRestart)', async () => {
      const before = await pods('chat');
      const uid = (name: string, list: Pod[]) => list.find((p) => p.metadata.name === name)?.metadata.uid;
      // The worker's container exits (an NCCL watchdog timeout) and its kubelet restarts it, as a pod
      // with restartPolicy Always does: LWS sees the restart count and recreates the group. (A pod
      // put in phase Failed races upstream with the StatefulSet controller replacing it alone; see
      // the conformance table.)
      const failed = await cluster.sim('POST', `/sim/pods/${NS}/chat-0-1/restart`);
      expect(failed.status).toBe(200);
      await until(
        'both pods of the group replaced',
        async () => {
          const now = await pods('chat');
          return (
            uid('chat-0', now) !== undefined &&
            uid('chat-0', now) !== uid('chat-0', before) &&
            uid('chat-0-1', now) !== undefined &&
            uid('chat-0-1', now) !== uid('chat-0-1', before)
          );
        },
        60_000,
      );
      // The gateway routes to the new leader once it is Ready (the old one is gone).
      await until(
        'the new leader routed',
        async () => {
          const leader = (await pods('chat')).find((p) => p.metadata.name === 'chat-0');
          return (
            leader?.metadata.uid !== uid('chat-0', before) &&
            routedEndpoints('chat').some(
              (e) => e.pod === 'chat-0' && e.origin.includes(`//${leader?.status?.podIP}:`),
            )
          );
        },
        60_000,
      );
      await readyPhase('chat', 1);
      const r = await client.chat.completions.create({
        model: 'chat',
        messages: [{ role: 'user', content: 'back?' }],
        max_tokens: 2,
      });
      expect(r.choices[0].finish_reason).toBe('length');
    });
  });

  describe('a vLLM and an SGLang service side by side in one project', () => {
    it('both READY, each served by its own engine, routed by model name', async () => {
      const created = await t.call('POST', '/api/v1/services', {
        key: member,
        body: {
          ...sglang('classic'),
          replicas: { initial: 1, min: 1, max: 1 },
          engine: { image: 'vllm/vllm-openai:v0.11.0', maxModelLen: 2048 },
        },
      });
      expect(created.status).toBe(202);
      expect(created.body.spec.engine.kind).toBe('vllm');
      await readyPhase('classic', 1);
      expect((await get('classic')).status.observed.leaderEndpoints[0].port).toBe(8000);
      const kinds = Object.fromEntries((await engines()).map((e) => [e.pod, e.engine]));
      expect(kinds).toEqual({ 'chat-0': 'sglang', 'classic-0': 'vllm' });

      const ask = (name: string) =>
        client.chat.completions.create({
          model: name,
          messages: [{ role: 'user', content: 'who?' }],
          max_tokens: 3,
        });
      const [fromSglang, fromVllm] = await Promise.all([ask('chat'), ask('classic')]);
      expect(fromSglang.model).toBe('chat');
      expect(fromSglang.choices[0]).toHaveProperty('matched_stop');
      expect(fromSglang.choices[0]).not.toHaveProperty('stop_reason');
      expect(fromVllm.model).toBe('classic');
      expect(fromVllm.choices[0]).toHaveProperty('stop_reason');
      expect(fromVllm.choices[0]).not.toHaveProperty('matched_stop');
      const listed = await client.models.list();
      expect(listed.data.map((m) => m.id).sort()).toEqual(['chat', 'classic']);
      // The picker reads each leader by its own engine's names.
      await until(
        'both queues scraped',
        async () => routedEndpoints('chat')[0]?.waiting === 0 && routedEndpoints('classic')[0]?.waiting === 0,
      );
    });

    it('the engine of a service cannot be changed in place', async () => {
      const r = await t.call('PATCH', '/api/v1/services/classic', {
        key: member,
        body: { engine: { kind: 'sglang' } },
      });
      expect(r.status).toBe(422);
      expect(r.body.error.issues).toEqual([
        {
          field: 'engine.kind',
          message: expect.stringMatching(/runs vllm and its engine cannot be changed/),
        },
      ]);
    });

    it('both are deleted: their LWS and pods are gone', async () => {
      for (const name of ['chat', 'classic']) {
        expect((await t.call('DELETE', `/api/v1/services/${name}`, { key: member })).status).toBe(202);
      }
      await until(
        'DELETED',
        async () =>
          (await get('chat')).status.phase === 'DELETED' && (await get('classic')).status.phase === 'DELETED',
        60_000,
      );
      expect(await pods('chat')).toEqual([]);
      expect(await pods('classic')).toEqual([]);
      expect(await engines()).toEqual([]);
    });
  });
});
