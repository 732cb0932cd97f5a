// Pure pod status transitions of the kubelet: each takes the pod and its current status and returns the
// status to write. No clock (callers pass `now`), no I/O.

import type { Condition, ContainerStatus, Pod, PodStatus } from './types';

/** RFC 3339 with second precision, as the API server writes timestamps. */
export function nowRfc3339(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function cond(type: string, status: Condition['status'], now: string): Condition {
  return { type, status, lastProbeTime: null, lastTransitionTime: now };
}

export function notReady(type: string, pod: Pod, now: string): Condition {
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

export function podTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

const containerId = (uid: string, container: string, restarts: number): string =>
  `sim://${uid.slice(0, 8)}-${container}-${restarts}`;

/**
 * The sandbox exists: pod IP assigned, init containers done (there is nothing to run them on: they are
 * reported Completed, exit 0), main containers ContainerCreating.
 */
export function pendingStatus(
  pod: Pod,
  s: PodStatus,
  o: { hostIP: string; podIP: string; uid: string; now: string },
): PodStatus {
  const { hostIP, podIP, now } = o;
  const inits = pod.spec.initContainers ?? [];
  return {
    ...s,
    phase: 'Pending',
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: now,
    conditions: mergeConditions(s.conditions, [
      cond('PodReadyToStartContainers', 'True', now),
      cond('Initialized', 'True', now),
      notReady('Ready', pod, now),
      notReady('ContainersReady', pod, now),
    ]),
    ...(inits.length
      ? {
          initContainerStatuses: inits.map((c) => ({
            name: c.name,
            image: c.image ?? '',
            imageID: `sim://${c.image ?? ''}`,
            containerID: containerId(o.uid, c.name, 0),
            ready: true,
            started: false,
            restartCount: 0,
            state: {
              terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now },
            },
            lastState: {},
          })),
        }
      : {}),
    containerStatuses: pod.spec.containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    })),
  };
}

/** Containers started (not ready yet); restart counts and last states carried over. */
export function runningStatus(pod: Pod, s: PodStatus, o: { uid: string; now: string }): PodStatus {
  return {
    ...s,
    phase: 'Running',
    containerStatuses: pod.spec.containers.map((c) => {
      const prev = s.containerStatuses?.find((x) => x.name === c.name);
      return {
        name: c.name,
        image: c.image ?? '',
        imageID: `sim://${c.image ?? ''}`,
        containerID: containerId(o.uid, c.name, prev?.restartCount ?? 0),
        ready: false,
        started: true,
        restartCount: prev?.restartCount ?? 0,
        state: { running: { startedAt: o.now } },
        lastState: prev?.lastState ?? {},
      };
    }),
  };
}

export function readinessStatus(pod: Pod, s: PodStatus, ready: boolean, now: string): PodStatus {
  return {
    ...s,
    conditions: mergeConditions(
      s.conditions,
      ready
        ? [cond('Ready', 'True', now), cond('ContainersReady', 'True', now)]
        : [notReady('Ready', pod, now), notReady('ContainersReady', pod, now)],
    ),
    containerStatuses: (s.containerStatuses ?? []).map((c) => ({ ...c, ready })),
  };
}

/** Every container ended with `exitCode`; the pod's phase follows (upstream: terminal before deletion). */
function terminatedContainers(
  pod: Pod,
  s: PodStatus,
  exit: { exitCode: number; reason: string; message?: string },
  now: string,
): ContainerStatus[] {
  return pod.spec.containers.map((c) => {
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
        terminated: {
          exitCode: exit.exitCode,
          reason: exit.reason,
          ...(exit.message !== undefined ? { message: exit.message } : {}),
          startedAt: started,
          finishedAt: now,
        },
      },
      lastState: prev?.lastState ?? {},
    };
  });
}

/** The pod failed: phase Failed, containers terminated with exit 1. */
export function failedStatus(
  pod: Pod,
  s: PodStatus,
  reason: string,
  message: string,
  now: string,
): PodStatus {
  return {
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
    containerStatuses: terminatedContainers(pod, s, { exitCode: 1, reason: 'Error', message }, now),
  };
}

/**
 * The pod was stopped for its deletion and its containers exited cleanly (exit 0, Completed): phase
 * Succeeded, as the kubelet leaves a deleted pod before it confirms the deletion. A pod that had
 * already failed keeps its status.
 */
export function stoppedStatus(pod: Pod, s: PodStatus, now: string): PodStatus {
  if (podTerminal({ ...pod, status: s })) return s;
  return {
    ...s,
    phase: 'Succeeded',
    conditions: mergeConditions(s.conditions, [
      {
        type: 'Ready',
        status: 'False',
        reason: 'PodCompleted',
        lastProbeTime: null,
        lastTransitionTime: now,
      },
      {
        type: 'ContainersReady',
        status: 'False',
        reason: 'PodCompleted',
        lastProbeTime: null,
        lastTransitionTime: now,
      },
    ]),
    containerStatuses: terminatedContainers(pod, s, { exitCode: 0, reason: 'Completed' }, now),
  };
}

/**
 * Containers restarted (one by name, or all): restartCount++, lastState terminated (exit 137), running
 * again but not ready until the delays pass; the others only lose readiness.
 */
export function restartedStatus(
  pod: Pod,
  s: PodStatus,
  o: { uid: string; container?: string; now: string },
): PodStatus {
  const { container, now } = o;
  return {
    ...s,
    conditions: mergeConditions(s.conditions, [
      notReady('Ready', pod, now),
      notReady('ContainersReady', pod, now),
    ]),
    containerStatuses: (s.containerStatuses ?? []).map((c) => {
      if (container && c.name !== container) return { ...c, ready: false };
      return {
        ...c,
        ready: false,
        restartCount: c.restartCount + 1,
        containerID: containerId(o.uid, c.name, c.restartCount + 1),
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
  };
}
