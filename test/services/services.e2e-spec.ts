import { KubeConfig, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckpoint } from '../../libs/core/src/models/verification';
import { createProject, startTestApp, TestApp } from '../support/app';
import { uploadAndVerify } from '../support/checkpoint';
import { onRealCluster, startTestCluster } from '../support/cluster';
import { startTestS3, TestS3 } from '../support/s3';
import { pollUntil } from '../support/until';

const NS = 'troupe-inference';

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000) =>
  pollUntil(what, fn, timeoutMs, 50);

describe('inference services on the cluster', () => {
  let s3: TestS3;
  let cluster: Awaited<ReturnType<typeof startTestCluster>>;
  let t: TestApp;
  let member: string;
  let lwsApi: CustomObjectsApi;
  const model = 'tiny';

  const service = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    model,
    version: 'v1',
    parallelism: { tensor: 8, pipeline: 2 },
    gpusPerNode: 8,
    replicas: { initial: 1, min: 1, max: 2 },
    engine: { image: 'vllm/vllm-openai:v0.11.0', maxModelLen: 2048 },
    ...extra,
  });
  const get = async (name: string) => (await t.call('GET', `/api/v1/services/${name}`, { key: member })).body;

  beforeAll(async () => {
    s3 = await startTestS3();
    // 8 nodes x 8 GPUs, two of them down until a test brings capacity back.
    cluster = await startTestCluster({ nodes: 8, podStartMs: 100, podReadyMs: 300 });
    await cluster.sim('POST', '/sim/nodes/node-6/down');
    await cluster.sim('POST', '/sim/nodes/node-7/down');
    t = await startTestApp({ ...s3.env, KUBECONFIG: cluster.kubeconfigFile, KUBE_NAMESPACE: NS });
    member = (await createProject(t, 'svc', ['member'])).keys.member.key;
    await t.call('POST', '/api/v1/models', { key: member, body: { name: model } });
    for (const v of ['v1', 'v2']) {
      const files = buildCheckpoint({ layers: 4, hidden: 64, heads: 16, kvHeads: 8, shards: 2 });
      expect((await uploadAndVerify(t, member, model, v, files)).state).toBe('READY');
    }
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigFile);
    lwsApi = kc.makeApiClient(CustomObjectsApi);
  });
  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
    await s3?.stop();
  });

  it('/readyz reports that the cluster serves the LWS API', async () => {
    const r = await t.call('GET', '/readyz');
    expect(r.body.checks.kubernetes).toBe('ok');
  });

  it('dryRun validates and renders without storing anything', async () => {
    const r = await t.call('POST', '/api/v1/services?dryRun=true', { key: member, body: service('dry') });
    expect(r.status).toBe(200);
    expect(r.body.manifest.kind).toBe('LeaderWorkerSet');
    expect(r.body.manifest.spec.leaderWorkerTemplate.size).toBe(2);
    expect((await t.call('GET', '/api/v1/services/dry', { key: member })).status).toBe(404);
  });

  it('weights: init-container by default, or streamed by vLLM from S3 when asked', async () => {
    const render = async (weights?: unknown) =>
      t.call('POST', '/api/v1/services?dryRun=true', {
        key: member,
        body: service('dry', weights === undefined ? {} : { weights }),
      });
    const synced = await render();
    expect(synced.body.spec.weights).toEqual({ mode: 'init-container' });
    const pod = (r: {
      body: { manifest: { spec: { leaderWorkerTemplate: { leaderTemplate: unknown } } } };
    }) => JSON.stringify(r.body.manifest.spec.leaderWorkerTemplate.leaderTemplate);
    expect(pod(synced)).toContain('fetch-weights');
    const streamed = await render({ mode: 'streamer' });
    expect(streamed.status).toBe(200);
    expect(streamed.body.spec.weights).toEqual({ mode: 'streamer' });
    expect(pod(streamed)).not.toContain('fetch-weights');
    expect(pod(streamed)).toContain('runai_streamer');
    const bad = await render({ mode: 'rsync' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toMatch(/weights\.mode/);
  });

  it.each([
    [
      'TP not dividing the node',
      { parallelism: { tensor: 8, pipeline: 2 }, gpusPerNode: 6 },
      /parallelism|gpusPerNode/,
    ],
    [
      'extraArgs overriding the platform',
      { engine: { image: 'vllm/vllm-openai:v0.11.0', extraArgs: ['--port', '9000'] } },
      /engine\.extraArgs/,
    ],
    ['replicas out of bounds', { replicas: { initial: 5, min: 1, max: 2 } }, /replicas\.initial/],
    ['a version that does not exist', { version: 'nope' }, /version/],
  ])('answers 422 for %s, naming the field', async (_, extra, field) => {
    const r = await t.call('POST', '/api/v1/services', { key: member, body: service('bad', extra) });
    expect(r.status).toBe(422);
    expect(r.body.error.issues.map((i: { field: string }) => i.field).join(' ')).toMatch(field);
  });

  it('deploys TP 8 x PP 2 on 8-GPU nodes as groups of 2 pods, READY with a leader endpoint that answers', async () => {
    const created = await t.call('POST', '/api/v1/services', {
      key: member,
      body: service('llm', { replicas: { initial: 2, min: 1, max: 2 } }),
    });
    expect(created.status).toBe(202);
    expect(created.body.status.phase).toBe('PENDING');
    const ready = await until('READY', async () => {
      const s = await get('llm');
      return s.status.phase === 'READY' && s.status.observed?.leaderEndpoints.length === 2 && s;
    });
    expect(ready.status.observed.groups).toMatchObject({ desired: 2, ready: 2 });
    const pods = await cluster.sim(
      'GET',
      `/api/v1/namespaces/${NS}/pods?labelSelector=leaderworkerset.sigs.k8s.io/name=llm`,
    );
    expect(
      ((await pods.json()) as { items: { metadata: { name: string } }[] }).items
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['llm-0', 'llm-0-1', 'llm-1', 'llm-1-1']);

    const ep = ready.status.observed.leaderEndpoints[0];
    const chat = await fetch(`http://${ep.ip}:${ep.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llm', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 }),
    });
    expect(chat.status).toBe(200);
    expect(((await chat.json()) as { object: string }).object).toBe('chat.completion');

    const manifest = await t.call('GET', '/api/v1/services/llm/manifest?format=yaml', { key: member });
    expect(manifest.text).toContain('kind: LeaderWorkerSet');
    const events = await t.call('GET', '/api/v1/services/llm/events', { key: member });
    expect(events.body.data.map((e: { reason: string }) => e.reason)).toEqual(
      expect.arrayContaining(['Created', 'Applied', 'READY']),
    );
  });

  it('a new model version rolls out group by group: UPDATING, never fewer ready groups than maxUnavailable allows', async () => {
    const patched = await t.call('PATCH', '/api/v1/services/llm', { key: member, body: { version: 'v2' } });
    expect(patched.status).toBe(202);
    let minReady = Infinity;
    const done = await until('READY on v2', async () => {
      const s = await get('llm');
      const live = (await lwsApi
        .getNamespacedCustomObject({
          group: 'leaderworkerset.x-k8s.io',
          version: 'v1',
          namespace: NS,
          plural: 'leaderworkersets',
          name: 'llm',
        })
        .catch(() => undefined)) as
        | {
            metadata: { labels: Record<string, string> };
            status?: { updatedReplicas?: number; readyReplicas?: number };
          }
        | undefined;
      if (live?.metadata.labels['troupe.io/model-version'] !== s.model.versionId) return false;
      if (s.status.appliedGeneration === s.generation && s.status.observed)
        minReady = Math.min(minReady, s.status.observed.groups.ready);
      return (
        s.status.phase === 'READY' &&
        s.status.appliedGeneration === s.generation &&
        s.model.version === 'v2' &&
        s.status.observed?.groups.updated === 2 &&
        s
      );
    });
    const events = await t.call('GET', '/api/v1/services/llm/events', { key: member });
    expect(events.body.data.map((e: { reason: string }) => e.reason)).toContain('UPDATING');
    // 2 groups, maxUnavailable 1: at least one group served throughout
    expect(minReady).toBeGreaterThanOrEqual(1);
    expect(done.model.version).toBe('v2');
    const lws = (await lwsApi.getNamespacedCustomObject({
      group: 'leaderworkerset.x-k8s.io',
      version: 'v1',
      namespace: NS,
      plural: 'leaderworkersets',
      name: 'llm',
    })) as {
      metadata: { labels: Record<string, string> };
    };
    expect(lws.metadata.labels['troupe.io/model-version']).toBe(done.model.versionId);
  });

  it('not enough GPUs: FAILED with the scheduler reason, recovers when capacity returns', async () => {
    // 6 usable nodes; llm holds 4. Two groups of 2 nodes: one fits, one cannot be placed.
    const r = await t.call('POST', '/api/v1/services', {
      key: member,
      body: service('big', { servedModelName: 'big', replicas: { initial: 2, min: 1, max: 2 } }),
    });
    expect(r.status).toBe(202);
    const failed = await until('FAILED', async () => {
      const s = await get('big');
      return s.status.phase === 'FAILED' && s;
    });
    expect(failed.status.reason).toMatch(/unschedulable/i);
    expect(failed.status.reason).toMatch(/nvidia\.com\/gpu/);
    await cluster.sim('POST', '/sim/nodes/node-6/up');
    await cluster.sim('POST', '/sim/nodes/node-7/up');
    await until('READY after nodes came back', async () => (await get('big')).status.phase === 'READY');
  });

  // Last before DELETE: on a real cluster the old StatefulSets and pods go by garbage collection after
  // the LWS, or are adopted by the new LWS of the same name (upstream LWS applies its StatefulSets
  // with server-side apply, which replaces their owner reference), so GPUs may change hands for a
  // while after READY; a capacity test after this one would race with that.
  it('an LWS deleted by hand comes back', async () => {
    await lwsApi.deleteNamespacedCustomObject({
      group: 'leaderworkerset.x-k8s.io',
      version: 'v1',
      namespace: NS,
      plural: 'leaderworkersets',
      name: 'llm',
    });
    await until('the missing LWS noticed', async () => {
      const events = await t.call('GET', '/api/v1/services/llm/events', { key: member });
      return events.body.data.some((e: { reason: string }) => e.reason === 'LeaderWorkerSetMissing');
    });
    await until('LWS recreated and READY', async () => {
      const lws = await lwsApi
        .getNamespacedCustomObject({
          group: 'leaderworkerset.x-k8s.io',
          version: 'v1',
          namespace: NS,
          plural: 'leaderworkersets',
          name: 'llm',
        })
        .catch(() => undefined);
      const s = await get('llm');
      return lws && s.status.phase === 'READY' && s.status.observed?.leaderEndpoints.length === 2;
    });
  });

  it('DELETE removes the LWS and its pods; the model version is protected while served', async () => {
    const refused = await t.call('DELETE', `/api/v1/models/${model}/versions/v2`, { key: member });
    expect(refused.status).toBe(409);
    for (const name of ['llm', 'big']) {
      const d = await t.call('DELETE', `/api/v1/services/${name}`, { key: member });
      expect(d.status).toBe(202);
    }
    await until(
      'DELETED',
      async () =>
        (await get('llm')).status.phase === 'DELETED' && (await get('big')).status.phase === 'DELETED',
    );
    const pods = await cluster.sim('GET', `/api/v1/namespaces/${NS}/pods`);
    expect(((await pods.json()) as { items: unknown[] }).items).toEqual([]);
    expect((await t.call('DELETE', `/api/v1/models/${model}/versions/v2`, { key: member })).status).toBe(204);
  });

  // The simulator only: the real control plane is shared by the run and cannot move to a given port;
  // test/kube-faults kills and restarts its kube-apiserver under a running platform instead.
  it.skipIf(onRealCluster)(
    'Kubernetes API unreachable: the request is accepted, the error shows in status, the reconcile retries',
    async () => {
      const { freePort } = await import('../../libs/testing/src');
      const { writeFileSync, readFileSync } = await import('node:fs');
      const port = await freePort();
      const file = `${cluster.kubeconfigFile}.down`;
      writeFileSync(
        file,
        readFileSync(cluster.kubeconfigFile, 'utf8').replace(
          /server: http:\/\/127\.0\.0\.1:\d+/,
          `server: http://127.0.0.1:${port}`,
        ),
      );
      const other = await startTestApp({
        ...s3.env,
        KUBECONFIG: file,
        KUBE_NAMESPACE: NS,
        DATABASE_URL: t.config.database.url,
      });
      let late: Awaited<ReturnType<typeof startTestCluster>> | undefined;
      try {
        const r = await other.call('POST', '/api/v1/services', {
          key: member,
          body: service('later', { servedModelName: 'later', replicas: { initial: 1, min: 1, max: 1 } }),
        });
        expect(r.status).toBe(202);
        const failing = await until('lastError', async () => {
          const s = (await other.call('GET', '/api/v1/services/later', { key: member })).body;
          return s.status.lastError && s;
        });
        expect(failing.status.lastError).toMatch(/unreachable|ECONNREFUSED/i);
        expect(failing.status.phase).toBe('PENDING');
        const ready = await other.call('GET', '/readyz');
        expect(ready.status).toBe(200);
        expect(ready.body).toMatchObject({
          status: 'degraded',
          checks: { kubernetes: expect.stringMatching(/^unreachable/) },
        });
        // The cluster comes (back) up on that address: the retried reconcile deploys it.
        late = await startTestCluster({ port, nodes: 2, keepServices: true });
        const deployed = await until(
          'READY once the API answers',
          async () => {
            const s = (await other.call('GET', '/api/v1/services/later', { key: member })).body;
            return s.status.phase === 'READY' && s;
          },
          60_000,
        );
        expect(deployed.status.lastError).toBeNull();
        await other.call('DELETE', '/api/v1/services/later', { key: member });
        await until(
          'DELETED',
          async () =>
            (await other.call('GET', '/api/v1/services/later', { key: member })).body.status.phase ===
            'DELETED',
        );
      } finally {
        await other.close();
        await late?.stop();
      }
    },
  );
});
