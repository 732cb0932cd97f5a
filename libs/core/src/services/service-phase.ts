import type { LeaderWorkerSet } from '@troupe/lws';
import { ObservedState, ServicePhase } from './service.types';

export interface PodFacts {
  name: string;
  groupIndex: number;
  workerIndex: number;
  phase: string;
  ready: boolean;
  ip?: string;
  port?: number;
  terminating: boolean;
  unschedulableMessage?: string;
}

/**
 * Reads what the cluster shows (the LWS and its pods) into observed state and a phase a person can
 * read. Pure: the watcher feeds it the cache's view.
 */
export function observe(
  lws: LeaderWorkerSet | undefined,
  pods: PodFacts[],
  desiredGroups: number,
  now: Date,
): { phase: ServicePhase; reason: string; observed: ObservedState } {
  const status = lws?.status;
  const current = status?.replicas ?? 0;
  const ready = status?.readyReplicas ?? 0;
  const updated = status?.updatedReplicas ?? 0;
  const desired = lws?.spec?.replicas ?? desiredGroups;
  const leaders = pods
    .filter((p) => p.workerIndex === 0 && p.ready && !p.terminating && p.ip && p.phase === 'Running')
    .sort((a, b) => a.groupIndex - b.groupIndex)
    .map((p) => ({ group: p.groupIndex, pod: p.name, ip: p.ip!, port: p.port ?? 8000 }));
  const pending = pods.filter((p) => p.phase === 'Pending');
  const unschedulable = pending.find((p) => p.unschedulableMessage)?.unschedulableMessage;
  const conditions = (status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
  }));
  const updating = conditions.some((c) => c.type === 'UpdateInProgress' && c.status === 'True');
  const observed: ObservedState = {
    groups: { desired, current, ready, updated },
    conditions,
    leaderEndpoints: leaders,
    pendingPods: pending.length,
    ...(unschedulable ? { unschedulable } : {}),
    observedAt: now.toISOString(),
  };

  if (!lws) return { phase: 'PENDING', reason: 'the LeaderWorkerSet does not exist yet', observed };
  if (desired === 0) return { phase: 'READY', reason: 'scaled to zero groups', observed };
  if (unschedulable && ready < desired) {
    return { phase: 'FAILED', reason: `unschedulable: ${unschedulable}`, observed };
  }
  if (updating)
    return {
      phase: 'UPDATING',
      reason: `rolling update: ${updated} of ${desired} groups updated, ${ready} ready`,
      observed,
    };
  if (ready >= desired) return { phase: 'READY', reason: `all ${desired} groups ready`, observed };
  if (ready === 0) return { phase: 'DEPLOYING', reason: `0 of ${desired} groups ready`, observed };
  return { phase: 'DEGRADED', reason: `${ready} of ${desired} groups ready`, observed };
}
