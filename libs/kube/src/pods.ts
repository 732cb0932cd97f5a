// Decisions about pods of LeaderWorkerSets: readiness, leaders, endpoints. Pure.

import { LWS_LABELS } from '@troupe/lws';
import type { LeaderEndpoint, ManagedFieldsEntry, Pod } from './types';

/** Port of vLLM when the leader container names no `http` port. */
export const DEFAULT_LEADER_PORT = 8000;
export const HTTP_PORT_NAME = 'http';

/** Running, condition Ready True, and not being deleted. */
export function isPodReady(pod: Pod): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  if (pod.status?.phase !== 'Running') return false;
  return (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The LWS that made the pod (label `leaderworkerset.sigs.k8s.io/name`). */
export function lwsNameOf(pod: Pod): string | undefined {
  return pod.metadata.labels?.[LWS_LABELS.name];
}

/** Group index of the pod (label `group-index`), or undefined when absent or not a number. */
export function groupIndexOf(pod: Pod): number | undefined {
  const raw = pod.metadata.labels?.[LWS_LABELS.groupIndex];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

/** Leader pods carry `worker-index: 0`. */
export function isLeaderPod(pod: Pod): boolean {
  return pod.metadata.labels?.[LWS_LABELS.workerIndex] === '0';
}

/** The container port named `http` (first container that has one), else 8000. */
export function podHttpPort(pod: Pod): number {
  for (const c of pod.spec?.containers ?? []) {
    const port = c.ports?.find((p) => p.name === HTTP_PORT_NAME);
    if (port) return port.containerPort;
  }
  return DEFAULT_LEADER_PORT;
}

function createdAt(pod: Pod): number {
  const t = pod.metadata.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Endpoints of the ready groups among `pods` (any pods of one LWS): leader pods that are ready and have
 * an IP, one per group index (the newest pod when two claim the same group), ordered by group index.
 */
export function leaderEndpoints(pods: Iterable<Pod>): LeaderEndpoint[] {
  const byGroup = new Map<number, Pod>();
  for (const pod of pods) {
    if (!isLeaderPod(pod) || !isPodReady(pod) || !pod.status?.podIP) continue;
    const group = groupIndexOf(pod);
    if (group === undefined) continue;
    const seen = byGroup.get(group);
    if (!seen || createdAt(pod) > createdAt(seen)) byGroup.set(group, pod);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => a - b)
    .map(([groupIndex, pod]) => ({
      groupIndex,
      podName: pod.metadata.name,
      ip: pod.status?.podIP as string,
      port: podHttpPort(pod),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    }));
}

/** Why a pod is not ready, in words a person can read (for status and events), or undefined when it is. */
export function podProblem(pod: Pod): string | undefined {
  if (isPodReady(pod)) return undefined;
  if (pod.metadata.deletionTimestamp) return 'terminating';
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    return `${scheduled.reason ?? 'Unschedulable'}${scheduled.message ? `: ${scheduled.message}` : ''}`;
  }
  for (const cs of pod.status?.containerStatuses ?? []) {
    const waiting = cs.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating') {
      return `${cs.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
    }
    const terminated = cs.state?.terminated;
    if (terminated)
      return `${cs.name}: terminated (${terminated.reason ?? `exit ${terminated.exitCode ?? '?'}`})`;
  }
  if (pod.status?.phase === 'Failed') {
    return `failed${pod.status.reason ? ` (${pod.status.reason})` : ''}${pod.status.message ? `: ${pod.status.message}` : ''}`;
  }
  return pod.status?.phase === 'Running' ? 'not ready' : (pod.status?.phase ?? 'Pending').toLowerCase();
}

/**
 * Managers owning a field according to `metadata.managedFields`, e.g. `fieldManagers(lws, ['spec',
 * 'replicas'])` → `[{manager: 'troupe-autoscaler', operation: 'Update', subresource: 'scale'}]`.
 */
export function fieldManagers(
  obj: { metadata: object },
  path: string[],
): { manager: string; operation?: string; subresource?: string }[] {
  const out: { manager: string; operation?: string; subresource?: string }[] = [];
  const entries = (obj.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields;
  for (const entry of Array.isArray(entries) ? entries : []) {
    let node: unknown = entry.fieldsV1;
    for (const key of path) {
      node =
        typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[`f:${key}`] : undefined;
    }
    if (node !== undefined) {
      out.push({
        manager: entry.manager ?? '',
        ...(entry.operation ? { operation: entry.operation } : {}),
        ...(entry.subresource ? { subresource: entry.subresource } : {}),
      });
    }
  }
  return out;
}
