// The simulated kubelets of every node: pod IPs, container states (ContainerCreating -> Running ->
// Ready) with configurable delays, vLLM engines for pods that run vLLM's OpenAI server (readiness
// follows the engine's /health), and the faults the admin API injects.

import type { ClusterApi } from '../api/cluster-api';
import { podTerminal } from '../controllers/pod-util';
import type { EventRecorder } from '../controllers/recorder';
import { RES } from '../kinds';
import type { StoreEvent } from '../store/events';
import type { Condition } from '../types/meta';
import type { ContainerStatus, Node, Pod, PodStatus } from '../types/workloads';
import { nowRfc3339 } from '../util/duration';
import { launchEngine, vllmOf, type EngineDefaults, type EngineHandle, type VllmCommand } from './engines';
import { IpPool, randomStart } from './ip-pool';

export interface KubeletOptions {
  podStartMs: number;
  podReadyMs: number;
  /** Engine readiness probe period. */
  probePeriodMs: number;
  engines: EngineDefaults;
  /** Start engines for vLLM pods (default true). */
  enableEngines: boolean;
  /** First pod IP handed out; default a random /24 in 127.0.1.0-127.99.255.0 (see ip-pool.ts). */
  podIpStart?: string;
}

interface Runtime {
  uid: string;
  namespace: string;
  name: string;
  node: string;
  ip: string;
  timers: Set<NodeJS.Timeout>;
  phase: 'creating' | 'running' | 'failed';
  vllm?: { container: string; cmd: VllmCommand };
  engine?: EngineHandle;
  /** Incremented on every (re)start, so that late async results of an older start are ignored. */
  generation: number;
  delayPassed: boolean;
  healthy: boolean;
  ready: boolean;
  log: string[];
}

export interface EngineInfo {
  namespace: string;
  pod: string;
  node: string;
  url: string;
  models: string[];
  ready: boolean;
  stats: ReturnType<EngineHandle['stats']>;
}

const SOURCE = (node: string): { component: string; host: string } => ({ component: 'kubelet', host: node });

export class Kubelet {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly ips: IpPool;
  private readonly downNodes = new Set<string>();
  private closed = false;

  constructor(
    private readonly api: ClusterApi,
    private readonly recorder: EventRecorder,
    private readonly o: KubeletOptions,
    private readonly log: (msg: string) => void = () => undefined,
  ) {
    this.ips = new IpPool(o.podIpStart ?? randomStart());
  }

  onEvent(ev: StoreEvent): void {
    if (ev.resource !== RES.pods || this.closed) return;
    const pod = ev.object as Pod;
    const uid = pod.metadata.uid as string;
    if (ev.type === 'DELETED') {
      this.teardown(uid);
      return;
    }
    if (!pod.spec.nodeName || this.runtimes.has(uid) || podTerminal(pod) || pod.status?.podIP) return;
    setImmediate(() => this.start(uid, pod.metadata.namespace ?? 'default', pod.metadata.name as string));
  }

  // ------------------------------------------------------------------ status helpers

  private current(rt: Runtime): Pod | undefined {
    const pod = this.api.store.get(RES.pods, rt.namespace, rt.name) as Pod | undefined;
    return pod && pod.metadata.uid === rt.uid ? pod : undefined;
  }

  private writeStatus(rt: Runtime, fn: (pod: Pod, status: PodStatus) => PodStatus): void {
    const pod = this.current(rt);
    if (!pod) return;
    const status = fn(pod, { ...(pod.status ?? {}) });
    this.api.update(
      this.api.def(RES.pods),
      rt.namespace,
      rt.name,
      { ...pod, status },
      { internal: true, subresource: 'status' },
    );
  }

  private timer(rt: Runtime, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      rt.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    rt.timers.add(t);
  }

  private addLog(rt: Runtime, line: string): void {
    rt.log.push(`${new Date().toISOString()} ${line}`);
    if (rt.log.length > 200) rt.log.shift();
  }

  // ------------------------------------------------------------------ lifecycle

  private start(uid: string, namespace: string, name: string): void {
    if (this.closed || this.runtimes.has(uid)) return;
    const pod = this.api.store.get(RES.pods, namespace, name) as Pod | undefined;
    if (!pod || pod.metadata.uid !== uid || !pod.spec.nodeName || podTerminal(pod) || pod.status?.podIP)
      return;
    const node = pod.spec.nodeName;
    const rt: Runtime = {
      uid,
      namespace,
      name,
      node,
      ip: this.ips.allocate(),
      timers: new Set(),
      phase: 'creating',
      generation: 0,
      delayPassed: false,
      healthy: false,
      ready: false,
      log: [],
    };
    this.runtimes.set(uid, rt);
    if (this.downNodes.has(node)) {
      this.fail(uid, 'NodeLost', `Node ${node} which was running pod ${name} is unresponsive`);
      return;
    }
    const hostIP = this.nodeIp(node);
    const now = nowRfc3339();
    this.writeStatus(rt, (p, s) => ({
      ...s,
      phase: 'Pending',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: rt.ip,
      podIPs: [{ ip: rt.ip }],
      startTime: now,
      conditions: mergeConditions(s.conditions, [
        cond('PodReadyToStartContainers', 'True', now),
        cond('Initialized', 'True', now),
        notReady('Ready', p, now),
        notReady('ContainersReady', p, now),
      ]),
      containerStatuses: p.spec.containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
      })),
    }));
    this.addLog(rt, `sandbox created on ${node} with IP ${rt.ip}`);
    this.timer(rt, this.o.podStartMs, () => this.run(rt));
  }

  private run(rt: Runtime): void {
    const pod = this.current(rt);
    if (!pod || rt.phase === 'failed') return;
    rt.phase = 'running';
    rt.generation++;
    const now = nowRfc3339();
    this.writeStatus(rt, (p, s) => ({
      ...s,
      phase: 'Running',
      containerStatuses: p.spec.containers.map((c) => {
        const prev = s.containerStatuses?.find((x) => x.name === c.name);
        return {
          name: c.name,
          image: c.image ?? '',
          imageID: `sim://${c.image ?? ''}`,
          containerID: `sim://${rt.uid.slice(0, 8)}-${c.name}-${prev?.restartCount ?? 0}`,
          ready: false,
          started: true,
          restartCount: prev?.restartCount ?? 0,
          state: { running: { startedAt: now } },
          lastState: prev?.lastState ?? {},
        };
      }),
    }));
    for (const c of pod.spec.containers) {
      this.recorder.record(pod, 'Normal', 'Started', `Started container ${c.name}`, SOURCE(rt.node));
      this.addLog(rt, `started container ${c.name} (${c.image ?? ''})`);
    }
    this.startContainers(rt, pod);
  }

  /** After (re)start: the engine if the pod runs vLLM, then readiness after podReadyMs. */
  private startContainers(rt: Runtime, pod: Pod): void {
    const generation = rt.generation;
    rt.delayPassed = false;
    rt.healthy = false;
    if (rt.vllm === undefined && this.o.enableEngines) {
      for (const c of pod.spec.containers) {
        const cmd = vllmOf(c);
        if (cmd) {
          rt.vllm = { container: c.name, cmd };
          break;
        }
      }
    }
    if (rt.vllm && this.o.enableEngines) {
      const cmd = rt.vllm.cmd;
      launchEngine(rt.ip, cmd, this.o.engines).then(
        (engine) => {
          if (
            this.closed ||
            rt.generation !== generation ||
            !this.runtimes.has(rt.uid) ||
            rt.phase !== 'running'
          ) {
            void engine.close();
            return;
          }
          rt.engine = engine;
          this.addLog(rt, `vLLM engine for ${cmd.model} listening on ${engine.url}`);
          this.probe(rt, generation);
        },
        (err: Error) => {
          this.addLog(rt, `vLLM engine failed to start: ${err.message}`);
          this.log(`engine for ${rt.namespace}/${rt.name} failed to start: ${err.message}`);
          const p = this.current(rt);
          if (p)
            this.recorder.record(
              p,
              'Warning',
              'Failed',
              `Error: engine failed to start: ${err.message}`,
              SOURCE(rt.node),
            );
        },
      );
    } else {
      rt.healthy = true;
    }
    this.timer(rt, this.o.podReadyMs, () => {
      if (rt.generation !== generation) return;
      rt.delayPassed = true;
      this.syncReady(rt);
    });
  }

  private probe(rt: Runtime, generation: number): void {
    const engine = rt.engine;
    if (!engine || this.closed || rt.generation !== generation) return;
    fetch(`${engine.url}/health`, { signal: AbortSignal.timeout(2000) })
      .then(
        async (res) => {
          await res.arrayBuffer().catch(() => undefined);
          return res.ok;
        },
        () => false,
      )
      .then((ok) => {
        if (this.closed || rt.generation !== generation || !this.runtimes.has(rt.uid)) return;
        if (rt.healthy !== ok) {
          rt.healthy = ok;
          this.syncReady(rt);
        }
        this.timer(rt, this.o.probePeriodMs, () => this.probe(rt, generation));
      });
  }

  private syncReady(rt: Runtime): void {
    const ready = rt.phase === 'running' && rt.delayPassed && rt.healthy;
    if (ready === rt.ready) return;
    rt.ready = ready;
    const now = nowRfc3339();
    this.writeStatus(rt, (p, s) => ({
      ...s,
      conditions: mergeConditions(
        s.conditions,
        ready
          ? [cond('Ready', 'True', now), cond('ContainersReady', 'True', now)]
          : [notReady('Ready', p, now), notReady('ContainersReady', p, now)],
      ),
      containerStatuses: (s.containerStatuses ?? []).map((c) => ({ ...c, ready })),
    }));
    if (!ready && rt.delayPassed) {
      const p = this.current(rt);
      if (p)
        this.recorder.record(
          p,
          'Warning',
          'Unhealthy',
          'Readiness probe failed: HTTP probe failed with statuscode: 503',
          SOURCE(rt.node),
        );
    }
  }

  private stopEngine(rt: Runtime): void {
    rt.generation++;
    const engine = rt.engine;
    rt.engine = undefined;
    if (engine) void engine.close();
  }

  private teardown(uid: string): void {
    const rt = this.runtimes.get(uid);
    if (!rt) return;
    this.runtimes.delete(uid);
    for (const t of rt.timers) clearTimeout(t);
    rt.timers.clear();
    this.stopEngine(rt);
    this.ips.release(rt.ip);
  }

  // ------------------------------------------------------------------ faults

  private runtimeOf(namespace: string, name: string): Runtime | undefined {
    const pod = this.api.store.get(RES.pods, namespace, name);
    return pod ? this.runtimes.get(pod.metadata.uid as string) : undefined;
  }

  /** Fails a pod: phase Failed, containers terminated, engine stopped. Returns false when unknown. */
  failPod(
    namespace: string,
    name: string,
    reason = 'Error',
    message = 'Container failed (fault injected)',
  ): boolean {
    const rt = this.runtimeOf(namespace, name);
    if (!rt) return false;
    this.fail(rt.uid, reason, message);
    return true;
  }

  private fail(uid: string, reason: string, message: string): void {
    const rt = this.runtimes.get(uid);
    if (!rt) return;
    for (const t of rt.timers) clearTimeout(t);
    rt.timers.clear();
    this.stopEngine(rt);
    rt.phase = 'failed';
    rt.ready = false;
    const now = nowRfc3339();
    this.addLog(rt, `pod failed: ${reason}: ${message}`);
    this.writeStatus(rt, (p, s) => ({
      ...s,
      phase: 'Failed',
      reason: reason === 'Error' ? undefined : reason,
      message,
      conditions: mergeConditions(s.conditions, [
        { type: 'Ready', status: 'False', reason: 'PodFailed', lastProbeTime: null, lastTransitionTime: now },
        {
          type: 'ContainersReady',
          status: 'False',
          reason: 'PodFailed',
          lastProbeTime: null,
          lastTransitionTime: now,
        },
      ]),
      containerStatuses: p.spec.containers.map((c) => {
        const prev = s.containerStatuses?.find((x) => x.name === c.name);
        const started = prev?.state.running?.startedAt;
        return {
          name: c.name,
          image: c.image ?? '',
          imageID: prev?.imageID ?? '',
          containerID: prev?.containerID,
          ready: false,
          started: false,
          restartCount: prev?.restartCount ?? 0,
          state: {
            terminated: { exitCode: 1, reason: 'Error', message, startedAt: started, finishedAt: now },
          },
          lastState: prev?.lastState ?? {},
        } as ContainerStatus;
      }),
    }));
    const p = this.current(rt);
    if (p)
      this.recorder.record(
        p,
        'Warning',
        reason === 'NodeLost' ? 'NodeNotReady' : 'Failed',
        message,
        SOURCE(rt.node),
      );
  }

  /** Restarts containers (all, or one by name): restartCount++, not ready until the delays pass again. */
  restartContainer(namespace: string, name: string, container?: string): boolean {
    const rt = this.runtimeOf(namespace, name);
    const pod = this.api.store.get(RES.pods, namespace, name) as Pod | undefined;
    if (!rt || !pod || rt.phase !== 'running') return false;
    if (container && !pod.spec.containers.some((c) => c.name === container)) return false;
    const now = nowRfc3339();
    const restartsEngine = !container || container === rt.vllm?.container;
    if (restartsEngine) this.stopEngine(rt);
    else rt.generation++;
    rt.ready = false;
    this.writeStatus(rt, (p, s) => ({
      ...s,
      conditions: mergeConditions(s.conditions, [
        notReady('Ready', p, now),
        notReady('ContainersReady', p, now),
      ]),
      containerStatuses: (s.containerStatuses ?? []).map((c) => {
        if (container && c.name !== container) return { ...c, ready: false };
        return {
          ...c,
          ready: false,
          restartCount: c.restartCount + 1,
          containerID: `sim://${rt.uid.slice(0, 8)}-${c.name}-${c.restartCount + 1}`,
          lastState: {
            terminated: {
              exitCode: 137,
              reason: 'Error',
              startedAt: c.state.running?.startedAt,
              finishedAt: now,
            },
          },
          state: { running: { startedAt: now } },
        };
      }),
    }));
    this.addLog(rt, `restarted container ${container ?? '(all)'}`);
    this.recorder.record(
      pod,
      'Normal',
      'Killing',
      `Container ${container ?? pod.spec.containers[0].name} restarted (fault injected)`,
      SOURCE(rt.node),
    );
    const fresh = this.current(rt);
    if (fresh) this.startContainers(rt, fresh);
    return true;
  }

  setNodeDown(nodeName: string, down: boolean): boolean {
    const def = this.api.def(RES.nodes);
    const node = this.api.tryGet(def, undefined, nodeName) as Node | undefined;
    if (!node) return false;
    const now = nowRfc3339();
    const taints = (node.spec.taints ?? []).filter((t) => t.key !== 'node.kubernetes.io/unreachable');
    if (down) {
      this.downNodes.add(nodeName);
      taints.push(
        { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: now },
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: now },
      );
    } else this.downNodes.delete(nodeName);
    const conditions = (node.status?.conditions ?? []).map((c) => {
      if (c.type !== 'Ready') return c;
      return down
        ? {
            ...c,
            status: 'Unknown' as const,
            reason: 'NodeStatusUnknown',
            message: 'Kubelet stopped posting node status.',
            lastTransitionTime: now,
          }
        : {
            ...c,
            status: 'True' as const,
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status',
            lastTransitionTime: now,
          };
    });
    this.api.update(
      def,
      undefined,
      nodeName,
      { ...node, spec: { ...node.spec, taints: taints.length ? taints : undefined } },
      { internal: true },
    );
    const fresh = this.api.get(def, undefined, nodeName) as Node;
    this.api.update(
      def,
      undefined,
      nodeName,
      { ...fresh, status: { ...fresh.status, conditions } },
      { internal: true, subresource: 'status' },
    );
    this.recorder.record(
      fresh,
      'Normal',
      down ? 'NodeNotReady' : 'NodeReady',
      `Node ${nodeName} status is now: ${down ? 'NodeNotReady' : 'NodeReady'}`,
      {
        component: 'node-controller',
      },
    );
    if (down) {
      for (const rt of [...this.runtimes.values()]) {
        if (rt.node === nodeName && rt.phase !== 'failed')
          this.fail(rt.uid, 'NodeLost', `Node ${nodeName} which was running pod ${rt.name} is unresponsive`);
      }
    }
    return true;
  }

  isNodeDown(name: string): boolean {
    return this.downNodes.has(name);
  }

  setEngineFaults(
    namespace: string,
    name: string,
    faults: Parameters<EngineHandle['setFaults']>[0],
  ): boolean {
    const engine = this.runtimeOf(namespace, name)?.engine;
    if (!engine) return false;
    engine.setFaults(faults);
    return true;
  }

  engines(): EngineInfo[] {
    const out: EngineInfo[] = [];
    for (const rt of this.runtimes.values()) {
      if (!rt.engine) continue;
      out.push({
        namespace: rt.namespace,
        pod: rt.name,
        node: rt.node,
        url: rt.engine.url,
        models: rt.engine.servedModelNames,
        ready: rt.ready,
        stats: rt.engine.stats(),
      });
    }
    return out.sort((a, b) => `${a.namespace}/${a.pod}`.localeCompare(`${b.namespace}/${b.pod}`));
  }

  podLog(namespace: string, name: string): string {
    const rt = this.runtimeOf(namespace, name);
    return rt ? `${rt.log.join('\n')}\n` : '';
  }

  nodeIp(node: string): string {
    const n = this.api.store.get(RES.nodes, '', node) as Node | undefined;
    return n?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
  }

  get podCount(): number {
    return this.runtimes.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const rt of this.runtimes.values()) {
      for (const t of rt.timers) clearTimeout(t);
      if (rt.engine) closing.push(rt.engine.close());
    }
    this.runtimes.clear();
    await Promise.all(closing);
  }
}

function cond(type: string, status: Condition['status'], now: string): Condition {
  return { type, status, lastProbeTime: null, lastTransitionTime: now };
}

function notReady(type: string, pod: Pod, now: string): Condition {
  const names = pod.spec.containers.map((c) => c.name).join(' ');
  return {
    type,
    status: 'False',
    reason: 'ContainersNotReady',
    message: `containers with unready status: [${names}]`,
    lastProbeTime: null,
    lastTransitionTime: now,
  };
}

const ORDER = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

/** Replaces conditions by type, keeping lastTransitionTime when the status does not change. */
export function mergeConditions(current: Condition[] | undefined, updates: Condition[]): Condition[] {
  const byType = new Map((current ?? []).map((c) => [c.type, c]));
  for (const u of updates) {
    const prev = byType.get(u.type);
    byType.set(
      u.type,
      prev && prev.status === u.status ? { ...u, lastTransitionTime: prev.lastTransitionTime } : u,
    );
  }
  return [...byType.values()].sort((a, b) => {
    const ia = ORDER.indexOf(a.type);
    const ib = ORDER.indexOf(b.type);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
}
