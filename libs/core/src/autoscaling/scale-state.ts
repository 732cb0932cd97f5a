import { groupIndexOf, isPodReady, Pod } from '@troupe/kube';
import type { LeaderWorkerSet } from '@troupe/lws';

/** The service's groups as the watch cache shows them (structurally the library's `ScaleState`). */
export interface GroupsNow {
  /** LWS `spec.replicas`: groups asked for. */
  current: number;
  /** Groups below `current` whose every pod (leader and workers) is ready. */
  ready: number;
  /** Asked for and not ready (starting, or stuck). */
  pending: number;
  /** Pending groups with a pod the scheduler cannot place (e.g. no node with enough free GPUs). */
  unschedulable: number;
  /** Indexes of the ready groups (their leaders are the ones to scrape). */
  readyGroupIndexes: number[];
  /** The scheduler's message for one unschedulable pod, when there is one. */
  unschedulableMessage?: string;
}

/**
 * Counts ready, pending and unschedulable groups of an LWS from its pods. Pure. Groups at or above
 * `spec.replicas` (being removed by a scale-down) are ignored; a group is ready only when it has all
 * its pods (`leaderWorkerTemplate.size`) ready, since vLLM serves only once the whole group is up.
 */
export function groupsNow(lws: LeaderWorkerSet, pods: Pod[]): GroupsNow {
  const current = lws.spec?.replicas ?? 1;
  const size = lws.spec?.leaderWorkerTemplate?.size ?? 1;
  const byGroup = new Map<number, Pod[]>();
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const g = groupIndexOf(pod);
    if (g === undefined || g >= current) continue;
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(pod);
  }
  const readyGroupIndexes: number[] = [];
  let unschedulable = 0;
  let unschedulableMessage: string | undefined;
  for (let g = 0; g < current; g++) {
    const groupPods = byGroup.get(g) ?? [];
    if (groupPods.length >= size && groupPods.every(isPodReady)) {
      readyGroupIndexes.push(g);
      continue;
    }
    const stuck = groupPods.find(cannotBeScheduled);
    if (stuck) {
      unschedulable++;
      unschedulableMessage ??= scheduledCondition(stuck)?.message ?? 'Unschedulable';
    }
  }
  return {
    current,
    ready: readyGroupIndexes.length,
    pending: current - readyGroupIndexes.length,
    unschedulable,
    readyGroupIndexes,
    ...(unschedulableMessage ? { unschedulableMessage } : {}),
  };
}

function scheduledCondition(pod: Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
}

function cannotBeScheduled(pod: Pod): boolean {
  const c = scheduledCondition(pod);
  return pod.status?.phase === 'Pending' && c?.status === 'False' && c.reason === 'Unschedulable';
}
