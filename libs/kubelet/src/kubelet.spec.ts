import { afterEach, describe, expect, it } from 'vitest';
import { Kubelet, type KubeletHost, type KubeletOptions } from './kubelet';
import { DEFAULT_NODE_SHAPE, nodeObject, type NodeUpdate } from './nodes';
import type { Node, Pod, PodRef, PodStatus } from './types';

/** An in-memory cluster: what the kubelet wrote, as a real store would keep it. */
class FakeHost implements KubeletHost {
  readonly pods = new Map<string, Pod>();
  readonly nodes = new Map<string, Node>();
  readonly deleted: PodRef[] = [];
  readonly events: { reason: string; message: string; kind: string }[] = [];
  onChange: (pod: Pod) => void = () => undefined;

  put(pod: Pod): void {
    this.pods.set(`${pod.metadata.namespace}/${pod.metadata.name}`, pod);
    this.onChange(pod);
  }
  getPod(namespace: string, name: string): Pod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }
  getNode(name: string): Node | undefined {
    return this.nodes.get(name);
  }
  writePodStatus(ref: PodRef, update: (pod: Pod, status: PodStatus) => PodStatus): void {
    const pod = this.getPod(ref.namespace, ref.name);
    if (!pod || pod.metadata.uid !== ref.uid) return;
    this.put({ ...pod, status: update(pod, { ...(pod.status ?? {}) }) });
  }
  deletePod(ref: PodRef): void {
    this.deleted.push(ref);
  }
  updateNode(name: string, update: (node: Node) => NodeUpdate): boolean {
    const node = this.nodes.get(name);
    if (!node) return false;
    const u = update(node);
    this.nodes.set(name, {
      ...node,
      spec: { ...node.spec, taints: u.taints },
      status: { ...node.status, conditions: u.conditions },
    });
    return true;
  }
  recordEvent(involved: { kind: string }, _type: string, reason: string, message: string): void {
    this.events.push({ reason, message, kind: involved.kind });
  }
  status(name: string): PodStatus {
    return this.getPod('default', name)?.status ?? {};
  }
}

const OPTIONS: KubeletOptions = {
  podStartMs: 0,
  podReadyMs: 0,
  probePeriodMs: 10,
  engines: { tpotMs: 1, ttftMs: 1 },
  enableEngines: false,
  podIpStart: '127.77.1.1',
};

function pod(name: string, o: { node?: string; uid?: string; inits?: boolean } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: o.uid ?? `uid-${name}` },
    spec: {
      nodeName: o.node ?? 'node-0',
      containers: [{ name: 'main', image: 'nginx' }],
      ...(o.inits ? { initContainers: [{ name: 'sync-weights', image: 'aws-cli' }] } : {}),
    },
  };
}

async function until(fn: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ready = (s: PodStatus): boolean =>
  s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

let kubelets: Kubelet[] = [];
afterEach(async () => {
  await Promise.all(kubelets.map((k) => k.close()));
  kubelets = [];
});

function setup(options: Partial<KubeletOptions> = {}): { host: FakeHost; kubelet: Kubelet } {
  const host = new FakeHost();
  for (let i = 0; i < 2; i++) {
    const n = nodeObject(i, DEFAULT_NODE_SHAPE);
    host.nodes.set(n.metadata.name, { ...n, metadata: { ...n.metadata, uid: `node-uid-${i}` } });
  }
  const kubelet = new Kubelet(host, { ...OPTIONS, ...options });
  host.onChange = (p) => kubelet.podChanged(p);
  kubelets.push(kubelet);
  return { host, kubelet };
}

describe('Kubelet', () => {
  it('takes a bound pod from Pending to Running and Ready, with an IP from its pool and init containers done', async () => {
    const { host } = setup();
    host.put(pod('a', { inits: true }));
    await until(() => ready(host.status('a')), 'ready');
    const s = host.status('a');
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('127.77.1.1');
    expect(s.podIPs).toEqual([{ ip: '127.77.1.1' }]);
    expect(s.hostIP).toBe('127.100.0.2');
    expect(s.initContainerStatuses).toEqual([
      expect.objectContaining({
        name: 'sync-weights',
        state: { terminated: expect.objectContaining({ exitCode: 0, reason: 'Completed' }) },
      }),
    ]);
    expect(s.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    expect(s.containerStatuses?.[0]).toMatchObject({ ready: true, started: true, restartCount: 0 });
    expect(host.events.map((e) => e.reason)).toContain('Started');
  });

  it('leaves pods of nodes it does not own, and unbound pods, alone', async () => {
    const { host, kubelet } = setup({ ownsNode: (n) => n === 'node-0' });
    host.put(pod('theirs', { node: 'node-1' }));
    host.put({ ...pod('unbound'), spec: { containers: [{ name: 'main' }] } });
    await new Promise((r) => setTimeout(r, 30));
    expect(host.status('theirs')).toEqual({});
    expect(host.status('unbound')).toEqual({});
    expect(kubelet.podCount).toBe(0);
    expect(kubelet.setNodeDown('node-1', true)).toBe(false);
  });

  it('stops a pod being deleted gracefully and then confirms the deletion', async () => {
    const { host, kubelet } = setup();
    host.put(pod('a'));
    await until(() => ready(host.status('a')), 'ready');
    const live = host.getPod('default', 'a') as Pod;
    host.put({
      ...live,
      metadata: {
        ...live.metadata,
        deletionTimestamp: '2030-01-01T00:00:00Z',
        deletionGracePeriodSeconds: 30,
      },
    });
    await until(() => host.deleted.length > 0, 'deletion confirmed');
    expect(host.deleted).toEqual([{ namespace: 'default', name: 'a', uid: 'uid-a' }]);
    const s = host.status('a');
    expect(s.phase).toBe('Succeeded');
    expect(ready(s)).toBe(false);
    expect(s.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(host.events.map((e) => e.reason)).toContain('Killing');
    // the API server then removes it; its IP goes back to the pool
    kubelet.podDeleted(host.getPod('default', 'a') as Pod);
    expect(kubelet.podCount).toBe(0);
  });

  it('confirms the deletion of a pod it never ran, once', async () => {
    const { host } = setup();
    const p = pod('pending');
    const terminating = { ...p, metadata: { ...p.metadata, deletionTimestamp: '2030-01-01T00:00:00Z' } };
    host.put(terminating);
    host.put(terminating);
    await until(() => host.deleted.length > 0, 'deletion confirmed');
    await new Promise((r) => setTimeout(r, 10));
    expect(host.deleted).toEqual([{ namespace: 'default', name: 'pending', uid: 'uid-pending' }]);
  });

  it('fails the pods of a node that goes down, taints it, and starts nothing there until it is up', async () => {
    const { host, kubelet } = setup();
    host.put(pod('a'));
    await until(() => ready(host.status('a')), 'ready');
    expect(kubelet.setNodeDown('node-0', true)).toBe(true);
    expect(host.status('a')).toMatchObject({ phase: 'Failed', reason: 'NodeLost' });
    const node = host.getNode('node-0') as Node;
    expect(node.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/unreachable:NoSchedule',
      'node.kubernetes.io/unreachable:NoExecute',
    ]);
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('Unknown');
    host.put(pod('b'));
    await until(() => host.status('b').phase === 'Failed', 'b failed');
    expect(kubelet.setNodeDown('node-0', false)).toBe(true);
    expect((host.getNode('node-0') as Node).spec?.taints).toBeUndefined();
    expect(kubelet.isNodeDown('node-0')).toBe(false);
    expect(host.events.filter((e) => e.kind === 'Node').map((e) => e.reason)).toEqual([
      'NodeNotReady',
      'NodeReady',
    ]);
  });

  it('restarts containers: restartCount++, lastState terminated, ready again after the delays', async () => {
    const { host, kubelet } = setup({ podReadyMs: 30 });
    host.put(pod('a'));
    await until(() => ready(host.status('a')), 'ready');
    expect(kubelet.restartContainer('default', 'a', 'nope')).toBe(false);
    expect(kubelet.restartContainer('default', 'a')).toBe(true);
    expect(ready(host.status('a'))).toBe(false);
    expect(host.status('a').containerStatuses?.[0]).toMatchObject({
      restartCount: 1,
      lastState: { terminated: { exitCode: 137 } },
    });
    await until(() => ready(host.status('a')), 'ready again');
  });

  it('takes over pods an earlier run started when asked to: same IP, containers restarted', async () => {
    const { host, kubelet } = setup({ adoptStartedPods: true });
    const p = pod('old');
    host.pods.set('default/old', {
      ...p,
      status: {
        phase: 'Running',
        podIP: '127.77.1.1',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'main',
            ready: true,
            restartCount: 0,
            state: { running: { startedAt: 'x' } },
            lastState: {},
          },
        ],
      },
    });
    kubelet.podChanged(host.getPod('default', 'old') as Pod);
    expect(host.status('old').containerStatuses?.[0].restartCount).toBe(1);
    await until(() => ready(host.status('old')), 'ready again');
    // its IP is held: a new pod gets the next one
    host.put(pod('new'));
    await until(() => host.status('new').podIP !== undefined, 'new pod IP');
    expect(host.status('new').podIP).toBe('127.77.1.2');
  });

  it('ignores pods that already have an IP unless it adopts them (the simulator never does)', async () => {
    const { host, kubelet } = setup();
    host.pods.set('default/old', { ...pod('old'), status: { phase: 'Running', podIP: '127.77.1.9' } });
    kubelet.podChanged(host.getPod('default', 'old') as Pod);
    await new Promise((r) => setTimeout(r, 20));
    expect(kubelet.podCount).toBe(0);
  });
});

describe('Kubelet: engines by the pod’s command line', () => {
  /** A pod of an SGLang group as rendered, with the env the LWS controller injects. */
  const sglangPod = (name: string, rank: string | undefined): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: {
      nodeName: 'node-0',
      containers: [
        {
          name: 'sglang',
          image: 'lmsysorg/sglang:v0.5.3',
          command: [
            'python3',
            '-m',
            'sglang.launch_server',
            '--model-path',
            '/models/m/v1',
            '--served-model-name',
            'm',
            '--tp',
            '8',
            '--nnodes',
            '2',
            '--node-rank',
            '$(LWS_WORKER_INDEX)',
            '--dist-init-addr',
            '$(LWS_LEADER_ADDRESS):20000',
            '--host',
            '0.0.0.0',
            '--port',
            '30000',
            '--enable-metrics',
          ],
          env: [
            { name: 'LWS_LEADER_ADDRESS', value: 'g-0.g.default' },
            ...(rank === undefined ? [] : [{ name: 'LWS_WORKER_INDEX', value: rank }]),
          ],
        },
      ],
    },
  });

  it('an SGLang leader runs an SGLang engine on port 30000; its worker is Ready without one', async () => {
    const { host, kubelet } = setup({ enableEngines: true });
    host.put(sglangPod('g-0', '0'));
    host.put(sglangPod('g-0-1', '1'));
    await until(() => ready(host.status('g-0')) && ready(host.status('g-0-1')), 'both ready');
    const engines = kubelet.engines();
    expect(engines.map((e) => [e.pod, e.engine, e.models])).toEqual([['g-0', 'sglang', ['m']]]);
    expect(engines[0].url).toBe(`http://${host.status('g-0').podIP}:30000`);
    const info = (await (await fetch(`${engines[0].url}/get_model_info`)).json()) as { model_path: string };
    expect(info.model_path).toBe('/models/m/v1');
    expect(kubelet.podLog('default', 'g-0-1')).toMatch(/SGLang rank 1 of 2: no HTTP server/);
  });

  it("a leader's readiness follows its engine's /health", async () => {
    const { host, kubelet } = setup({ enableEngines: true });
    host.put(sglangPod('g-0', '0'));
    await until(() => ready(host.status('g-0')), 'ready');
    kubelet.setEngineFaults('default', 'g-0', { unhealthy: true });
    await until(() => !ready(host.status('g-0')), 'unready');
  });

  it('an SGLang command SGLang would refuse never gets Ready, and says why', async () => {
    const { host, kubelet } = setup({ enableEngines: true });
    host.put(sglangPod('bad-0', undefined)); // no LWS_WORKER_INDEX: --node-rank is not an int
    await until(() => host.status('bad-0').phase === 'Running', 'running');
    await new Promise((r) => setTimeout(r, 100));
    expect(ready(host.status('bad-0'))).toBe(false);
    expect(kubelet.engines()).toEqual([]);
    expect(host.events.find((e) => e.reason === 'Failed')?.message).toMatch(
      /SGLang exited: .*invalid int value/,
    );
  });
});
