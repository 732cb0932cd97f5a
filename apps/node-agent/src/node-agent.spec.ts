// The node agent against the cluster simulator with no nodes of its own (`nodes: 0`): the simulator is
// the API server, LWS and StatefulSet controllers and scheduler; the agent registers the nodes and
// runs their pods, over HTTP through client-node, as it would against a real control plane.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClusterSim, type ClusterSim } from '../../cluster-sim/src';
import { startNodeAgent, type NodeAgent } from './agent';

interface Obj {
  metadata: { name: string; uid?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: Record<string, unknown> & { taints?: { key: string; effect: string }[]; nodeName?: string };
  status?: Record<string, unknown> & {
    phase?: string;
    reason?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type: string; status: string }[];
    capacity?: Record<string, string>;
    containerStatuses?: { ready: boolean; restartCount: number; state: Record<string, unknown> }[];
    initContainerStatuses?: { state: { terminated?: { exitCode: number; reason: string } } }[];
  };
}

let dir: string;
let sim: ClusterSim;
let agent: NodeAgent;
const logs: string[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-agent-'));
  sim = await startClusterSim({
    kubeconfigPath: path.join(dir, 'kubeconfig.yaml'),
    nodes: 0,
    gracefulPodDeletion: true,
    crdPath: false,
  });
  agent = await startNodeAgent({
    kubeconfigPath: path.join(dir, 'kubeconfig.yaml'),
    nodes: 4,
    gpusPerNode: 8,
    racks: 2,
    podReadyMs: 20,
    probePeriodMs: 20,
    engineTpotMs: 1,
    engineTtftMs: 1,
    leaseRenewMs: 100,
    nodeStatusRefreshMs: 200,
    log: (m) => logs.push(m),
  });
});

afterAll(async () => {
  if (process.env.NODE_AGENT_SPEC_LOGS) console.log(logs.join('\n'));
  await agent?.stop();
  await sim?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function api<T = Obj>(method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sim.url}${p}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const admin = (p: string, method = 'POST', body: unknown = {}): Promise<Response> =>
  fetch(`${agent.adminUrl}/sim/${p}`, {
    method,
    body: method === 'GET' ? undefined : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });

async function waitFor<T>(fn: () => Promise<T | undefined | false>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${String(last ?? '')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pod = (name: string): Promise<Obj> => api('GET', `/api/v1/namespaces/default/pods/${name}`);
const isReady = (o: Obj): boolean =>
  o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const cond = (o: Obj, type: string): string | undefined =>
  o.status?.conditions?.find((c) => c.type === type)?.status;

const VLLM_LEADER = {
  name: 'vllm-leader',
  image: 'vllm/vllm-openai:v0.11.0',
  command: ['sh', '-c'],
  args: ['vllm serve meta/llama --port $(PORT) --served-model-name llama --tensor-parallel-size 8'],
  env: [{ name: 'PORT', value: '8080' }],
  resources: { limits: { 'nvidia.com/gpu': '8' } },
};

function lws(name: string): Record<string, unknown> {
  return {
    apiVersion: 'leaderworkerset.x-k8s.io/v1',
    kind: 'LeaderWorkerSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 1,
      leaderWorkerTemplate: {
        size: 2,
        leaderTemplate: { spec: { containers: [VLLM_LEADER] } },
        workerTemplate: {
          spec: {
            initContainers: [{ name: 'sync-weights', image: 'amazon/aws-cli' }],
            containers: [
              {
                name: 'worker',
                image: 'vllm/vllm-openai:v0.11.0',
                resources: { limits: { 'nvidia.com/gpu': '8' } },
              },
            ],
          },
        },
      },
    },
  };
}

describe('node agent', () => {
  it('registers GPU nodes with the simulator shape, Ready, heartbeating through leases', async () => {
    expect(agent.nodes).toEqual(['node-0', 'node-1', 'node-2', 'node-3']);
    const nodes = await api<{ items: Obj[] }>('GET', '/api/v1/nodes');
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(agent.nodes);
    const n1 = nodes.items.find((n) => n.metadata.name === 'node-1') as Obj;
    expect(n1.status?.capacity).toMatchObject({
      'nvidia.com/gpu': '8',
      cpu: '96',
      memory: '1024Gi',
      pods: '110',
    });
    expect(n1.metadata.labels).toMatchObject({
      rack: 'rack-0',
      'topology.kubernetes.io/zone': 'rack-0',
      'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3',
    });
    expect(nodes.items.find((n) => n.metadata.name === 'node-3')?.metadata.labels?.rack).toBe('rack-1');
    expect(cond(n1, 'Ready')).toBe('True');
    const lease = await api<{
      spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string };
    }>('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1');
    expect(lease.spec).toMatchObject({ holderIdentity: 'node-1', leaseDurationSeconds: 40 });
    await waitFor(async () => {
      const again = await api<typeof lease>(
        'GET',
        '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1',
      );
      return again.spec.renewTime !== lease.spec.renewTime;
    }, 'lease renewed');
    const beat = (o: Obj): unknown =>
      (o.status?.conditions as { type: string; lastHeartbeatTime?: string }[]).find((c) => c.type === 'Ready')
        ?.lastHeartbeatTime;
    const first = beat(n1);
    await waitFor(
      async () => beat(await api('GET', '/api/v1/nodes/node-1')) !== first,
      'node status heartbeat',
      5000,
    );
  });

  it('runs a scheduled pod: a 127.x IP, Running and Ready, its node as host', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'plain' },
      spec: {
        containers: [{ name: 'main', image: 'nginx', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
      },
    });
    const p = await waitFor(async () => {
      const x = await pod('plain');
      return isReady(x) ? x : undefined;
    }, 'plain pod ready');
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.podIP).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(p.status?.podIP?.startsWith('127.0.0.')).toBe(false);
    expect(agent.nodes).toContain(p.spec?.nodeName);
    expect(p.status?.hostIP).toMatch(/^127\.100\./);
    const events = await api<{ items: { reason: string; source: { component: string; host: string } }[] }>(
      'GET',
      '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=plain',
    );
    expect(events.items).toContainEqual(
      expect.objectContaining({
        reason: 'Started',
        source: { component: 'kubelet', host: p.spec?.nodeName },
      }),
    );
    await api('DELETE', '/api/v1/namespaces/default/pods/plain');
  });

  let ip = '';

  it('gives an LWS vLLM leader a working engine on podIP:port; init containers of workers Completed', async () => {
    await api('POST', '/apis/leaderworkerset.x-k8s.io/v1/namespaces/default/leaderworkersets', lws('llm'));
    const leader = await waitFor(async () => {
      const x = await pod('llm-0');
      return isReady(x) ? x : undefined;
    }, 'leader ready');
    ip = leader.status?.podIP as string;
    const models = (await (await fetch(`http://${ip}:8080/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['llama']);
    const worker = await waitFor(async () => {
      const x = await pod('llm-0-1');
      return isReady(x) ? x : undefined;
    }, 'worker ready');
    expect(worker.status?.initContainerStatuses?.[0].state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(cond(worker, 'Initialized')).toBe('True');
    const list = (await (await admin('engines', 'GET')).json()) as {
      items: { pod: string; url: string; ready: boolean }[];
    };
    expect(list.items).toEqual([
      expect.objectContaining({ pod: 'llm-0', url: `http://${ip}:8080`, ready: true }),
    ]);
    const summary = (await (await admin('', 'GET')).json()) as { nodes: { name: string }[]; engines: number };
    expect(summary.nodes).toHaveLength(4);
    expect(summary.engines).toBe(1);
  });

  it('serves the fault API: unhealthy engine turns the pod unready, and back; 404 for unknown things', async () => {
    expect((await admin('engines/default/llm-0/faults', 'POST', { unhealthy: true })).status).toBe(200);
    await waitFor(async () => !isReady(await pod('llm-0')), 'leader unready');
    expect((await admin('engines/default/llm-0/faults', 'DELETE')).status).toBe(200);
    await waitFor(async () => isReady(await pod('llm-0')), 'leader ready again');
    expect((await admin('pods/default/nope/fail')).status).toBe(404);
    expect((await admin('nodes/nope/down')).status).toBe(404);
    expect((await admin('engines/default/nope/faults')).status).toBe(404);
  });

  it('fails a pod on request; the LWS controller recreates the group with a new engine', async () => {
    expect(
      (await admin('pods/default/llm-0-1/fail', 'POST', { message: 'GPU fell off the bus' })).status,
    ).toBe(200);
    const fresh = await waitFor(async () => {
      const x = await pod('llm-0');
      return isReady(x) && x.status?.podIP !== ip ? x : undefined;
    }, 'recreated leader');
    await expect(fetch(`http://${ip}:8080/health`)).rejects.toThrow();
    ip = fresh.status?.podIP as string;
    expect((await fetch(`http://${ip}:8080/health`)).status).toBe(200);
  });

  it('takes a node down (Ready Unknown, unreachable taints, its pods fail) and up again', async () => {
    const leader = await pod('llm-0');
    const node = leader.spec?.nodeName as string;
    expect((await admin(`nodes/${node}/down`)).status).toBe(200);
    const down = await waitFor(async () => {
      const n = await api('GET', `/api/v1/nodes/${node}`);
      return cond(n, 'Ready') === 'Unknown' ? n : undefined;
    }, 'node Ready Unknown');
    expect(down.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/unreachable:NoSchedule',
      'node.kubernetes.io/unreachable:NoExecute',
    ]);
    // the leader failed (NodeLost) and the group comes back on the other nodes
    await waitFor(async () => {
      const x = await pod('llm-0');
      return x.metadata.uid !== leader.metadata.uid && isReady(x) && x.spec?.nodeName !== node;
    }, 'group recreated elsewhere');
    const lease = (): Promise<{ spec: { renewTime: string } }> =>
      api('GET', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`);
    const frozen = (await lease()).spec.renewTime;
    await new Promise((r) => setTimeout(r, 300));
    expect((await lease()).spec.renewTime).toBe(frozen);
    expect((await admin(`nodes/${node}/up`)).status).toBe(200);
    const up = await waitFor(async () => {
      const n = await api('GET', `/api/v1/nodes/${node}`);
      return cond(n, 'Ready') === 'True' ? n : undefined;
    }, 'node Ready again');
    expect(up.spec?.taints).toBeUndefined();
    await waitFor(async () => (await lease()).spec.renewTime !== frozen, 'lease renewed again');
  });

  it('deletes gracefully: the engine finishes its stream, then the agent confirms the deletion', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'solo' },
      spec: { containers: [VLLM_LEADER] },
    });
    const p = await waitFor(async () => {
      const x = await pod('solo');
      return isReady(x) ? x : undefined;
    }, 'solo ready');
    const url = `http://${p.status?.podIP}:8080`;
    expect((await admin('engines/default/solo/faults', 'POST', { slowFactor: 20 })).status).toBe(200);
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'llama', prompt: 'x', max_tokens: 20, stream: true, ignore_eos: true }),
    });
    const body = res.text();
    await api('DELETE', '/api/v1/namespaces/default/pods/solo');
    const terminating = await pod('solo');
    expect(terminating.metadata.deletionTimestamp).toBeDefined();
    const text = await body;
    expect(text).toContain('data: [DONE]');
    expect(text.match(/"text"/g)?.length).toBeGreaterThanOrEqual(20);
    await waitFor(async () => {
      try {
        await pod('solo');
        return false;
      } catch (e) {
        return String(e).includes(' 404 ');
      }
    }, 'pod gone');
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('stops the engines of deleted pods', async () => {
    ip = (await pod('llm-0')).status?.podIP as string;
    await api('DELETE', '/apis/leaderworkerset.x-k8s.io/v1/namespaces/default/leaderworkersets/llm');
    await waitFor(
      async () => {
        try {
          await fetch(`http://${ip}:8080/health`);
          return false;
        } catch {
          return true;
        }
      },
      'engine stopped',
      5000,
    );
    const list = (await (await admin('engines', 'GET')).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    // every pod stopped and its deletion confirmed: nothing left in the API or on the agent
    await waitFor(async () => {
      const left = await api<{ items: Obj[] }>('GET', '/api/v1/namespaces/default/pods');
      return left.items.length === 0 && agent.kubelet.podCount === 0;
    }, 'pods gone');
  });

  it('a restarted agent takes its nodes and running pods over: same IP, containers restarted, engine back', async () => {
    await api('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'keeper' },
      spec: { containers: [VLLM_LEADER] },
    });
    const running = await waitFor(async () => {
      const x = await pod('keeper');
      return isReady(x) ? x : undefined;
    }, 'keeper ready');
    await agent.stop();
    const url = `http://${running.status?.podIP}:8080`;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    const before = await api('GET', '/api/v1/nodes/node-2');
    agent = await startNodeAgent({
      kubeconfigPath: path.join(dir, 'kubeconfig.yaml'),
      nodes: 4,
      leaseRenewMs: 100,
      nodeStatusRefreshMs: 200,
      log: (m) => logs.push(m),
    });
    const after = await api('GET', '/api/v1/nodes/node-2');
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(logs).toContain('node node-2: taken over');
    const adopted = await waitFor(async () => {
      const x = await pod('keeper');
      return isReady(x) && x.status?.containerStatuses?.[0].restartCount === 1 ? x : undefined;
    }, 'keeper restarted and ready');
    expect(adopted.status?.podIP).toBe(running.status?.podIP);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    await api('DELETE', '/api/v1/namespaces/default/pods/keeper');
  });

  it('rides through an API server restart: reconnects, registers its nodes again, runs new pods', async () => {
    const port = sim.port;
    await sim.close();
    await new Promise((r) => setTimeout(r, 300)); // heartbeats and the watch meet ECONNREFUSED
    sim = await startClusterSim({
      port,
      kubeconfigPath: path.join(dir, 'kubeconfig.yaml'),
      nodes: 0,
      gracefulPodDeletion: true,
      crdPath: false,
    });
    // an empty store: the nodes come back through the status heartbeat
    await waitFor(async () => {
      const nodes = await api<{ items: Obj[] }>('GET', '/api/v1/nodes');
      return nodes.items.length === 4 && nodes.items.every((n) => cond(n, 'Ready') === 'True');
    }, 'nodes registered again');
    expect(logs).toContain('node node-0 is gone from the API server: registering it again');
    await api('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'after-restart' },
      spec: { containers: [{ name: 'main', image: 'nginx' }] },
    });
    await waitFor(async () => isReady(await pod('after-restart')), 'pod ready after the restart');
  });
});
