// Pod predicates shared by controllers (pure).

import type { Pod, StatefulSet } from '../types/workloads';

export function podReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function podRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && podReady(pod);
}

export function podTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

/** Some container restarted while the pod is pending or running (upstream podutils.ContainerRestarted). */
export function containerRestarted(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase !== 'Running' && phase !== 'Pending') return false;
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].some(
    (c) => c.restartCount > 0,
  );
}

export function statefulSetReady(sts: StatefulSet): boolean {
  const want = sts.spec.replicas ?? 1;
  return (sts.status?.readyReplicas ?? 0) === want && (sts.status?.replicas ?? 0) === want;
}

export function ordinalOf(podName: string, stsName: string): number {
  if (!podName.startsWith(`${stsName}-`)) return -1;
  const rest = podName.slice(stsName.length + 1);
  return /^\d+$/.test(rest) ? Number(rest) : -1;
}
