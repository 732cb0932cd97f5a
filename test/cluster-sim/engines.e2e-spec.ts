// Leader pods that run vLLM get a simulated engine on podIP:port; readiness follows its /health.
// Fault injection through /sim/.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { LWS, lwsManifest, startSim, waitFor, type SimClients } from './helpers';

let c: SimClients;
beforeAll(async () => {
  c = await startSim({ nodes: 4, podReadyMs: 20, probePeriodMs: 20, engineTpotMs: 1, engineTtftMs: 1 });
});
afterAll(() => c.close());

const leader = {
  name: 'vllm-leader',
  image: 'vllm/vllm-openai:v0.11.0',
  command: ['sh', '-c'],
  args: [
    'bash /vllm-workspace/examples/online_serving/multi-node-serving.sh leader --ray_cluster_size=$(LWS_GROUP_SIZE); ' +
      'python3 -m vllm.entrypoints.openai.api_server --port 8080 --model meta-llama/Llama-3.1-405B-Instruct --served-model-name llama-405b --tensor-parallel-size 8 --pipeline-parallel-size 2 --max-num-seqs 7',
  ],
  ports: [{ containerPort: 8080 }],
};

const getPod = (name: string): Promise<V1Pod> => c.core.readNamespacedPod({ namespace: 'default', name });
const isReady = (p: V1Pod): boolean =>
  p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
const admin = (path: string, method = 'POST', body: unknown = {}): Promise<Response> =>
  fetch(`${c.sim.url}/sim/${path}`, {
    method,
    body: method === 'GET' ? undefined : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });

describe('engines', () => {
  let ip = '';

  it('starts an engine for a vLLM leader on podIP:port and gates readiness on it', async () => {
    await c.custom.createNamespacedCustomObject({
      ...LWS,
      namespace: 'default',
      body: lwsManifest({
        name: 'llm',
        replicas: 1,
        size: 2,
        image: 'vllm/vllm-openai:v0.11.0',
        gpus: 8,
        leaderContainer: leader,
      }),
    });
    const pod = await waitFor(async () => {
      const p = await getPod('llm-0');
      return isReady(p) ? p : undefined;
    });
    ip = pod.status?.podIP as string;
    expect(ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(ip.startsWith('127.0.0.')).toBe(false);
    const health = await fetch(`http://${ip}:8080/health`);
    expect(health.status).toBe(200);
    const models = (await (await fetch(`http://${ip}:8080/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['llama-405b']);
    const res = await fetch(`http://${ip}:8080/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: 'llama-405b',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 4,
      }),
    });
    expect(res.status).toBe(200);
    const list = (await (await admin('engines', 'GET')).json()) as {
      items: { pod: string; url: string; models: string[]; ready: boolean }[];
    };
    expect(list.items).toEqual([
      expect.objectContaining({
        pod: 'llm-0',
        url: `http://${ip}:8080`,
        models: ['llama-405b'],
        ready: true,
      }),
    ]);
    // the worker runs no engine but becomes ready
    expect(isReady(await getPod('llm-0-1'))).toBe(true);
  });

  it('takes max-num-seqs from the command line', async () => {
    await admin('engines/default/llm-0/faults', 'POST', { slowFactor: 500 });
    const abort = new AbortController();
    const inflight = Array.from({ length: 10 }, () =>
      fetch(`http://${ip}:8080/v1/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'llama-405b', prompt: 'x', max_tokens: 100, stream: true }),
        signal: abort.signal,
      }).catch(() => undefined),
    );
    const stats = await waitFor(async () => {
      const list = (await (await admin('engines', 'GET')).json()) as {
        items: { stats: { running: number; waiting: number } }[];
      };
      const st = list.items[0]?.stats;
      return st && st.running + st.waiting === 10 ? st : undefined;
    });
    expect(stats).toMatchObject({ running: 7, waiting: 3 });
    abort.abort();
    await Promise.all(inflight);
    await admin('engines/default/llm-0/faults', 'DELETE');
  });

  it('flips readiness when the engine turns unhealthy, and back', async () => {
    expect((await admin('engines/default/llm-0/faults', 'POST', { unhealthy: true })).status).toBe(200);
    await waitFor(async () => !isReady(await getPod('llm-0')), 5000, 'not ready');
    const lws = (await c.custom.getNamespacedCustomObject({ ...LWS, namespace: 'default', name: 'llm' })) as {
      status: { readyReplicas: number };
    };
    await waitFor(async () => {
      const l = (await c.custom.getNamespacedCustomObject({ ...LWS, namespace: 'default', name: 'llm' })) as {
        status: { readyReplicas?: number };
      };
      // readyReplicas is an `omitempty` int32 upstream: 0 is not written.
      return l.status.readyReplicas === undefined;
    });
    expect(lws.status).toBeDefined();
    expect((await admin('engines/default/llm-0/faults', 'DELETE')).status).toBe(200);
    await waitFor(async () => isReady(await getPod('llm-0')), 5000, 'ready again');
  });

  it('injects errors into engine responses', async () => {
    await admin('engines/default/llm-0/faults', 'POST', { errorRate: 1, errorStatus: 503 });
    const res = await fetch(`http://${ip}:8080/v1/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'llama-405b', prompt: 'x', max_tokens: 2 }),
    });
    expect(res.status).toBe(503);
    await admin('engines/default/llm-0/faults', 'DELETE');
  });

  it('restarts the engine with the container and stops it with the pod', async () => {
    expect((await admin('pods/default/llm-0/restart', 'POST', { container: 'vllm-leader' })).status).toBe(
      200,
    );
    // RecreateGroupOnPodRestart: the group is recreated; the new leader gets a new engine
    const fresh = await waitFor(
      async () => {
        const p = await getPod('llm-0');
        return isReady(p) && p.status?.podIP !== ip ? p : undefined;
      },
      10_000,
      'recreated leader',
    );
    await expect(fetch(`http://${ip}:8080/health`)).rejects.toThrow();
    const newIp = fresh.status?.podIP as string;
    expect((await fetch(`http://${newIp}:8080/health`)).status).toBe(200);
    await c.custom.deleteNamespacedCustomObject({ ...LWS, namespace: 'default', name: 'llm' });
    await waitFor(
      async () => {
        try {
          await fetch(`http://${newIp}:8080/health`);
          return false;
        } catch {
          return true;
        }
      },
      5000,
      'engine stopped',
    );
    const list = (await (await admin('engines', 'GET')).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
  });

  it('answers 404 for unknown pods, nodes and engines', async () => {
    expect((await admin('pods/default/nope/fail')).status).toBe(404);
    expect((await admin('nodes/nope/down')).status).toBe(404);
    expect((await admin('engines/default/nope/faults')).status).toBe(404);
    const summary = (await (await admin('', 'GET')).json()) as { nodes: unknown[] };
    expect(summary.nodes).toHaveLength(4);
  });
});
