// The kubelet of every node a host runs: pod IPs, container states (ContainerCreating -> Running ->
// Ready) with configurable delays, simulated engines for pods that run vLLM's or SGLang's OpenAI
// server (readiness follows the engine's /health; SGLang ranks above 0 serve nothing), graceful stops of deleted pods, and the faults the admin API injects.
// Host-agnostic: it reads and writes the cluster through a `KubeletHost` (the simulator's object store,
// or an API server through the node agent).

import {
  engineName,
  engineOf,
  launchEngine,
  type EngineCommand,
  type EngineDefaults,
  type EngineHandle,
  type EngineKind,
} from './engines';
import { IpPool, randomStart } from './ip-pool';
import { nodeDownUpdate, type NodeUpdate } from './nodes';
import {
  failedStatus,
  nowRfc3339,
  pendingStatus,
  podTerminal,
  readinessStatus,
  restartedStatus,
  runningStatus,
  stoppedStatus,
} from './pod-status';
import type { EventSource, Node, ObjectReference, Pod, PodRef, PodStatus } from './types';

/** Where the kubelet reads and writes the cluster. */
export interface KubeletHost {
  /** The pod as last seen (a synchronous read of a cache). */
  getPod(namespace: string, name: string): Pod | undefined;
  getNode(name: string): Node | undefined;
  /**
   * Writes the pod's status through `pods/status`: `update` gets the pod as stored and a copy of its
   * status and returns the new status. Dropped when the pod is gone or is another pod (uid) by now.
   * Writes of one pod land in the order they were made.
   */
  writePodStatus(pod: PodRef, update: (pod: Pod, status: PodStatus) => PodStatus): void;
  /**
   * Confirms a graceful deletion once the pod's containers are stopped: delete with grace period 0 and
   * a uid precondition, after the pod's pending status writes.
   */
  deletePod(pod: PodRef): void;
  /** Writes the node's taints (spec) and conditions (status) from `update`; false when unknown. */
  updateNode(name: string, update: (node: Node) => NodeUpdate): boolean;
  /** Posts an Event (best effort). */
  recordEvent(
    involved: ObjectReference,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: EventSource,
  ): void;
}

export interface KubeletOptions {
  podStartMs: number;
  podReadyMs: number;
  /** Engine readiness probe period. */
  probePeriodMs: number;
  engines: EngineDefaults;
  /** Start engines for pods that run one (default true). */
  enableEngines: boolean;
  /** First pod IP handed out; default a random /24 in 127.0.1.0-127.99.255.0 (see ip-pool.ts). */
  podIpStart?: string;
  /** The nodes this kubelet runs pods of. Default: every node. */
  ownsNode?: (name: string) => boolean;
  /**
   * Pods on its nodes that already have a pod IP and no runtime here (an earlier run of this kubelet
   * started them) are taken over: their IP kept, their containers restarted. Default false (ignored).
   */
  adoptStartedPods?: boolean;
  /**
   * A deleted pod's engine gets up to min(grace period, this) to finish the requests in flight before
   * it stops. Default 2000 ms.
   */
  maxDrainMs?: number;
}

interface Runtime {
  uid: string;
  namespace: string;
  name: string;
  node: string;
  ip: string;
  timers: Set<NodeJS.Timeout>;
  phase: 'creating' | 'running' | 'failed' | 'stopping';
  /** The engine its containers run, when one does (found at the first start). */
  engineCmd?: { container: string; cmd: EngineCommand };
  engine?: EngineHandle;
  /** Incremented on every (re)start, so that late async results of an older start are ignored. */
  generation: number;
  delayPassed: boolean;
  healthy: boolean;
  ready: boolean;
  log: string[];
}

export interface EngineInfo {
  /** Whose server: `vllm` or `sglang`. */
  engine: EngineKind;
  namespace: string;
  pod: string;
  node: string;
  url: string;
  models: string[];
  ready: boolean;
  stats: ReturnType<EngineHandle['stats']>;
}

const SOURCE = (node: string): EventSource => ({ component: 'kubelet', host: node });
const DRAIN_POLL_MS = 25;

export function refOf(pod: Pod): ObjectReference {
  return {
    apiVersion: pod.apiVersion ?? 'v1',
    kind: pod.kind ?? 'Pod',
    namespace: pod.metadata.namespace,
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid,
    resourceVersion: pod.metadata.resourceVersion,
  };
}

export class Kubelet {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly ips: IpPool;
  private readonly downNodes = new Set<string>();
  /** Deleted pods without a runtime whose deletion was confirmed (uids), until they are gone. */
  private readonly confirmed = new Set<string>();
  private closed = false;

  constructor(
    private readonly host: KubeletHost,
    private readonly o: KubeletOptions,
    private readonly log: (msg: string) => void = () => undefined,
  ) {
    this.ips = new IpPool(o.podIpStart ?? randomStart());
  }

  owns(node: string): boolean {
    return this.o.ownsNode ? this.o.ownsNode(node) : true;
  }

  /** A pod was added or changed. */
  podChanged(pod: Pod): void {
    if (this.closed) return;
    const node = pod.spec.nodeName;
    const uid = pod.metadata.uid;
    if (!node || !uid || !this.owns(node)) return;
    if (pod.metadata.deletionTimestamp) {
      // Not from inside the host's change notification: stopping writes (and, in the simulator, deletes).
      setImmediate(() => {
        const latest = this.host.getPod(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '');
        if (!this.closed && latest?.metadata.uid === uid && latest.metadata.deletionTimestamp)
          this.terminate(uid, latest);
      });
      return;
    }
    if (this.runtimes.has(uid) || podTerminal(pod)) return;
    if (pod.status?.podIP) {
      if (this.o.adoptStartedPods) this.adopt(uid, pod, pod.status.podIP);
      return;
    }
    setImmediate(() => this.start(uid, pod.metadata.namespace ?? 'default', pod.metadata.name as string));
  }

  /** A pod is gone from the API. */
  podDeleted(pod: Pod): void {
    const uid = pod.metadata.uid;
    if (!uid) return;
    this.confirmed.delete(uid);
    this.teardown(uid);
  }

  // ------------------------------------------------------------------ status helpers

  private current(rt: Runtime): Pod | undefined {
    const pod = this.host.getPod(rt.namespace, rt.name);
    return pod && pod.metadata.uid === rt.uid ? pod : undefined;
  }

  private writeStatus(rt: Runtime, fn: (pod: Pod, status: PodStatus) => PodStatus): void {
    this.host.writePodStatus({ namespace: rt.namespace, name: rt.name, uid: rt.uid }, fn);
  }

  private event(rt: Runtime, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const p = this.current(rt);
    if (p) this.host.recordEvent(refOf(p), type, reason, message, SOURCE(rt.node));
  }

  private timer(rt: Runtime, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      rt.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    rt.timers.add(t);
  }

  private clearTimers(rt: Runtime): void {
    for (const t of rt.timers) clearTimeout(t);
    rt.timers.clear();
  }

  private addLog(rt: Runtime, line: string): void {
    rt.log.push(`${new Date().toISOString()} ${line}`);
    if (rt.log.length > 200) rt.log.shift();
  }

  private newRuntime(uid: string, pod: Pod, node: string, ip: string): Runtime {
    return {
      uid,
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name as string,
      node,
      ip,
      timers: new Set(),
      phase: 'creating',
      generation: 0,
      delayPassed: false,
      healthy: false,
      ready: false,
      log: [],
    };
  }

  // ------------------------------------------------------------------ lifecycle

  private start(uid: string, namespace: string, name: string): void {
    if (this.closed || this.runtimes.has(uid)) return;
    const pod = this.host.getPod(namespace, name);
    if (
      !pod ||
      pod.metadata.uid !== uid ||
      !pod.spec.nodeName ||
      pod.metadata.deletionTimestamp ||
      podTerminal(pod) ||
      pod.status?.podIP
    )
      return;
    const node = pod.spec.nodeName;
    const rt = this.newRuntime(uid, pod, node, this.ips.allocate());
    this.runtimes.set(uid, rt);
    if (this.downNodes.has(node)) {
      this.fail(uid, 'NodeLost', `Node ${node} which was running pod ${name} is unresponsive`);
      return;
    }
    const hostIP = this.nodeIp(node);
    const now = nowRfc3339();
    this.writeStatus(rt, (p, s) => pendingStatus(p, s, { hostIP, podIP: rt.ip, uid, now }));
    this.addLog(rt, `sandbox created on ${node} with IP ${rt.ip}`);
    this.timer(rt, this.o.podStartMs, () => this.run(rt));
  }

  /** A pod an earlier run started: keep its IP, restart its containers (or go on creating them). */
  private adopt(uid: string, pod: Pod, ip: string): void {
    const node = pod.spec.nodeName as string;
    const rt = this.newRuntime(uid, pod, node, ip);
    this.runtimes.set(uid, rt);
    if (!this.ips.reserve(ip)) {
      rt.ip = '';
      this.fail(uid, 'Error', `pod IP ${ip} cannot be taken over by this kubelet`);
      return;
    }
    if (this.downNodes.has(node)) {
      this.fail(uid, 'NodeLost', `Node ${node} which was running pod ${rt.name} is unresponsive`);
      return;
    }
    this.addLog(rt, `taken over on ${node} with IP ${ip}`);
    if (pod.status?.phase !== 'Running') {
      this.timer(rt, this.o.podStartMs, () => this.run(rt));
      return;
    }
    rt.phase = 'running';
    rt.generation++;
    const now = nowRfc3339();
    this.writeStatus(rt, (p, s) => restartedStatus(p, s, { uid, now }));
    this.host.recordEvent(
      refOf(pod),
      'Normal',
      'Killing',
      `Container ${pod.spec.containers[0]?.name ?? ''} restarted (kubelet restarted)`,
      SOURCE(node),
    );
    this.startContainers(rt, pod);
  }

  private run(rt: Runtime): void {
    const pod = this.current(rt);
    if (!pod || rt.phase === 'failed' || rt.phase === 'stopping') return;
    rt.phase = 'running';
    rt.generation++;
    const now = nowRfc3339();
    this.writeStatus(rt, (p, s) => runningStatus(p, s, { uid: rt.uid, now }));
    for (const c of pod.spec.containers) {
      this.host.recordEvent(refOf(pod), 'Normal', 'Started', `Started container ${c.name}`, SOURCE(rt.node));
      this.addLog(rt, `started container ${c.name} (${c.image ?? ''})`);
    }
    this.startContainers(rt, pod);
  }

  /**
   * After (re)start: the engine if the pod runs one's server, then readiness after podReadyMs. A pod
   * that runs an engine without serving (an SGLang rank above 0) is healthy like any other; one whose
   * engine would refuse its arguments never gets ready.
   */
  private startContainers(rt: Runtime, pod: Pod): void {
    const generation = rt.generation;
    rt.delayPassed = false;
    rt.healthy = false;
    if (rt.engineCmd === undefined && this.o.enableEngines) {
      for (const c of pod.spec.containers) {
        const cmd = engineOf(c);
        if (cmd) {
          rt.engineCmd = { container: c.name, cmd };
          break;
        }
      }
    }
    const cmd = this.o.enableEngines ? rt.engineCmd?.cmd : undefined;
    const name = cmd ? engineName(cmd.kind) : '';
    if (cmd?.serves) {
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
          this.addLog(rt, `${name} engine for ${cmd.model} listening on ${engine.url}`);
          this.probe(rt, generation);
        },
        (err: Error) => {
          this.addLog(rt, `${name} engine failed to start: ${err.message}`);
          this.log(`engine for ${rt.namespace}/${rt.name} failed to start: ${err.message}`);
          this.event(rt, 'Warning', 'Failed', `Error: engine failed to start: ${err.message}`);
        },
      );
    } else if (cmd && 'error' in cmd) {
      this.addLog(rt, cmd.error);
      this.log(`engine of ${rt.namespace}/${rt.name} refuses its arguments: ${cmd.error}`);
      this.event(rt, 'Warning', 'Failed', `Error: ${name} exited: ${cmd.error}`);
    } else {
      if (cmd && 'rank' in cmd)
        this.addLog(rt, `${name} rank ${cmd.rank} of ${cmd.of}: no HTTP server (rank 0 serves)`);
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
    this.writeStatus(rt, (p, s) => readinessStatus(p, s, ready, now));
    if (!ready && rt.delayPassed)
      this.event(
        rt,
        'Warning',
        'Unhealthy',
        'Readiness probe failed: HTTP probe failed with statuscode: 503',
      );
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
    this.clearTimers(rt);
    this.stopEngine(rt);
    if (rt.ip) this.ips.release(rt.ip);
  }

  /**
   * Graceful deletion (a real API server keeps the pod until its kubelet confirms): not ready at once,
   * the engine gets up to min(grace period, maxDrainMs) to finish its requests, then stops; containers
   * are reported terminated and the deletion confirmed. The simulator deletes pods at once instead
   * (podDeleted), so this runs only against an API server.
   */
  private terminate(uid: string, pod: Pod): void {
    const rt = this.runtimes.get(uid);
    const ref: PodRef = {
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
      uid,
    };
    if (!rt) {
      if (this.confirmed.has(uid)) return;
      this.confirmed.add(uid);
      this.host.deletePod(ref);
      return;
    }
    if (rt.phase === 'stopping') return;
    const wasRunning = rt.phase === 'running';
    rt.phase = 'stopping';
    this.clearTimers(rt);
    rt.generation++;
    const now = nowRfc3339();
    if (wasRunning) {
      rt.ready = false;
      this.writeStatus(rt, (p, s) => readinessStatus(p, s, false, now));
      for (const c of pod.spec.containers)
        this.host.recordEvent(
          refOf(pod),
          'Normal',
          'Killing',
          `Stopping container ${c.name}`,
          SOURCE(rt.node),
        );
    }
    this.addLog(rt, 'stopping: the pod is being deleted');
    const graceSeconds =
      pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    const deadline = Date.now() + Math.min(graceSeconds * 1000, this.o.maxDrainMs ?? 2000);
    const finish = (): void => {
      this.stopEngine(rt);
      if (wasRunning) this.writeStatus(rt, (p, s) => stoppedStatus(p, s, nowRfc3339()));
      this.host.deletePod(ref);
    };
    const drain = (): void => {
      const stats = rt.engine?.stats();
      if (!stats || stats.running + stats.waiting === 0 || Date.now() >= deadline) finish();
      else this.timer(rt, DRAIN_POLL_MS, drain);
    };
    drain();
  }

  // ------------------------------------------------------------------ faults

  private runtimeOf(namespace: string, name: string): Runtime | undefined {
    const pod = this.host.getPod(namespace, name);
    const uid = pod?.metadata.uid;
    return uid ? this.runtimes.get(uid) : undefined;
  }

  /** Fails a pod: phase Failed, containers terminated, engine stopped. Returns false when unknown. */
  failPod(
    namespace: string,
    name: string,
    reason = 'Error',
    message = 'Container failed (fault injected)',
  ): boolean {
    const rt = this.runtimeOf(namespace, name);
    if (!rt || rt.phase === 'stopping') return false;
    this.fail(rt.uid, reason, message);
    return true;
  }

  private fail(uid: string, reason: string, message: string): void {
    const rt = this.runtimes.get(uid);
    if (!rt) return;
    this.clearTimers(rt);
    this.stopEngine(rt);
    rt.phase = 'failed';
    rt.ready = false;
    const now = nowRfc3339();
    this.addLog(rt, `pod failed: ${reason}: ${message}`);
    this.writeStatus(rt, (p, s) => failedStatus(p, s, reason, message, now));
    this.event(rt, 'Warning', reason === 'NodeLost' ? 'NodeNotReady' : 'Failed', message);
  }

  /** Restarts containers (all, or one by name): restartCount++, not ready until the delays pass again. */
  restartContainer(namespace: string, name: string, container?: string): boolean {
    const rt = this.runtimeOf(namespace, name);
    const pod = this.host.getPod(namespace, name);
    if (!rt || !pod || rt.phase !== 'running') return false;
    if (container && !pod.spec.containers.some((c) => c.name === container)) return false;
    const now = nowRfc3339();
    const restartsEngine = !container || container === rt.engineCmd?.container;
    if (restartsEngine) this.stopEngine(rt);
    else rt.generation++;
    rt.ready = false;
    this.writeStatus(rt, (p, s) => restartedStatus(p, s, { uid: rt.uid, container, now }));
    this.addLog(rt, `restarted container ${container ?? '(all)'}`);
    this.host.recordEvent(
      refOf(pod),
      'Normal',
      'Killing',
      `Container ${container ?? pod.spec.containers[0].name} restarted (fault injected)`,
      SOURCE(rt.node),
    );
    const fresh = this.current(rt);
    if (fresh) this.startContainers(rt, fresh);
    return true;
  }

  /**
   * Node down: Ready=Unknown, unreachable taints, its pods fail (NodeLost) and nothing starts there;
   * up: back to Ready. False for a node this kubelet does not run.
   */
  setNodeDown(nodeName: string, down: boolean): boolean {
    if (!this.owns(nodeName)) return false;
    const now = nowRfc3339();
    if (!this.host.updateNode(nodeName, (node) => nodeDownUpdate(node, down, now))) return false;
    if (down) this.downNodes.add(nodeName);
    else this.downNodes.delete(nodeName);
    const fresh = this.host.getNode(nodeName);
    this.host.recordEvent(
      {
        apiVersion: 'v1',
        kind: 'Node',
        name: nodeName,
        uid: fresh?.metadata.uid,
        resourceVersion: fresh?.metadata.resourceVersion,
      },
      'Normal',
      down ? 'NodeNotReady' : 'NodeReady',
      `Node ${nodeName} status is now: ${down ? 'NodeNotReady' : 'NodeReady'}`,
      { component: 'node-controller' },
    );
    if (down) {
      for (const rt of [...this.runtimes.values()]) {
        if (rt.node === nodeName && rt.phase !== 'failed' && rt.phase !== 'stopping')
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
        engine: rt.engine.kind,
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
    const n = this.host.getNode(node);
    return n?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
  }

  get podCount(): number {
    return this.runtimes.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const rt of this.runtimes.values()) {
      this.clearTimers(rt);
      if (rt.engine) closing.push(rt.engine.close());
    }
    this.runtimes.clear();
    await Promise.all(closing);
  }
}
