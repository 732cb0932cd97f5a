// The scheduler loop: binds pending pods to nodes (placement.ts decides), marks the others
// Unschedulable with a FailedScheduling event, and retries them when the cluster changes.

import type { ClusterApi } from '../api/cluster-api';
import type { EventRecorder } from '../controllers/recorder';
import { WorkQueue } from '../controllers/queue';
import { podTerminal } from '../controllers/pod-util';
import { RES } from '../kinds';
import type { StoreEvent } from '../store/events';
import type { Condition } from '../types/meta';
import type { Node, Pod } from '../types/workloads';
import { nowRfc3339 } from '../util/duration';
import { parseQuantity } from '../util/quantity';
import {
  addPlaced,
  placePod,
  prepare,
  type ClusterView,
  type NodeView,
  type PlacedPod,
  type PodView,
} from './placement';

const SOURCE = { component: 'default-scheduler' };
const ALL = '*';

export function nodeView(node: Node): NodeView {
  const allocatable: Record<string, number> = {};
  for (const [k, v] of Object.entries(node.status?.allocatable ?? {})) allocatable[k] = parseQuantity(v);
  return {
    name: node.metadata.name as string,
    labels: node.metadata.labels ?? {},
    allocatable,
    unschedulable: node.spec.unschedulable === true,
    taints: node.spec.taints ?? [],
  };
}

export function podRequests(pod: Pod): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of pod.spec.containers) {
    const req = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
    for (const [k, v] of Object.entries(req)) {
      const n = parseQuantity(v);
      if (!Number.isNaN(n)) total[k] = (total[k] ?? 0) + n;
    }
  }
  return total;
}

export function podView(pod: Pod): PodView {
  return {
    namespace: pod.metadata.namespace ?? 'default',
    labels: pod.metadata.labels ?? {},
    requests: podRequests(pod),
    nodeSelector: pod.spec.nodeSelector,
    affinity: pod.spec.affinity,
    tolerations: pod.spec.tolerations,
  };
}

export class Scheduler {
  readonly queue: WorkQueue;
  private readonly pending = new Set<string>();

  constructor(
    private readonly api: ClusterApi,
    private readonly recorder: EventRecorder,
    onError: (key: string, err: unknown) => void,
  ) {
    this.queue = new WorkQueue('scheduler', () => this.run(), onError);
  }

  onEvent(ev: StoreEvent): void {
    if (ev.resource === RES.nodes) {
      this.retryAll();
      return;
    }
    if (ev.resource !== RES.pods) return;
    const pod = ev.object as Pod;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (ev.type === 'DELETED' || podTerminal(pod)) {
      this.pending.delete(key);
      if ((ev.previous as Pod | undefined)?.spec.nodeName || pod.spec.nodeName) this.retryAll();
      return;
    }
    if (!pod.spec.nodeName && (pod.spec.schedulerName ?? 'default-scheduler') === 'default-scheduler') {
      if (ev.type === 'ADDED') {
        this.pending.add(key);
        this.queue.add(ALL);
      }
    }
  }

  private retryAll(): void {
    if (this.pending.size) this.queue.add(ALL);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private run(): void {
    if (this.pending.size === 0) return;
    const nodes = (this.api.store.list(RES.nodes) as Node[]).map(nodeView);
    const pods: Pod[] = [];
    const placed: PlacedPod[] = [];
    for (const p of this.api.store.list(RES.pods) as Pod[]) {
      if (p.spec.nodeName) {
        if (!podTerminal(p)) placed.push({ ...podView(p), nodeName: p.spec.nodeName });
      }
    }
    for (const key of this.pending) {
      const i = key.indexOf('/');
      const pod = this.api.store.get(RES.pods, key.slice(0, i), key.slice(i + 1)) as Pod | undefined;
      if (!pod || pod.spec.nodeName || podTerminal(pod)) {
        this.pending.delete(key);
        continue;
      }
      pods.push(pod);
    }
    pods.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
    const view: ClusterView = { nodes, placed };
    const pre = prepare(view);
    for (const pod of pods) {
      const pv = podView(pod);
      const result = placePod(pv, view, pre);
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      if (result.node) {
        this.bind(pod, result.node);
        this.pending.delete(key);
        addPlaced(view, pre, { ...pv, nodeName: result.node });
      } else if ('message' in result) {
        this.markUnschedulable(pod, result.message);
      }
    }
  }

  private setScheduledCondition(pod: Pod, cond: Condition): Condition[] {
    const others = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    return [...others, cond];
  }

  private bind(pod: Pod, node: string): void {
    const now = nowRfc3339();
    const next: Pod = {
      ...pod,
      spec: { ...pod.spec, nodeName: node },
      status: {
        ...pod.status,
        conditions: this.setScheduledCondition(pod, {
          type: 'PodScheduled',
          status: 'True',
          lastProbeTime: null,
          lastTransitionTime: now,
        }),
      },
    };
    this.api.update(this.api.def(RES.pods), pod.metadata.namespace, pod.metadata.name as string, next, {
      internal: true,
    });
    this.recorder.record(
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`,
      SOURCE,
    );
  }

  private markUnschedulable(pod: Pod, message: string): void {
    const current = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (!current || current.message !== message || current.status !== 'False') {
      const cond: Condition = {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message,
        lastProbeTime: null,
        lastTransitionTime: nowRfc3339(),
      };
      this.api.update(
        this.api.def(RES.pods),
        pod.metadata.namespace,
        pod.metadata.name as string,
        { ...pod, status: { ...pod.status, conditions: this.setScheduledCondition(pod, cond) } },
        { internal: true, subresource: 'status' },
      );
    }
    this.recorder.record(pod, 'Warning', 'FailedScheduling', message, SOURCE);
  }

  close(): void {
    this.queue.close();
  }
}
