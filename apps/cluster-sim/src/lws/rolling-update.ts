// Rolling update arithmetic of the LWS controller (leader StatefulSet partition and replicas), pure.
// Same semantics as upstream's rollingUpdateParameters / rollingUpdatePartition.

import { scaledValue } from './intstr';

export interface ReplicaState {
  /** Leader pod running and ready and worker StatefulSet (if any) ready. */
  ready: boolean;
  /** Leader pod and worker StatefulSet on the current template revision. */
  updated: boolean;
}

export interface RollingInput {
  lwsReplicas: number;
  maxUnavailable: number | string | undefined;
  maxSurge: number | string | undefined;
  /** spec.rolloutStrategy.rollingUpdateConfiguration.partition */
  lwsPartition: number;
  /** The leader StatefulSet as it is, or undefined before its creation. */
  sts?: {
    replicas: number;
    partition: number;
    /** Annotation leaderworkerset.sigs.k8s.io/replicas: lws replicas when the sts was last applied. */
    lwsReplicasAnnotation: number;
  };
  /** The template changed since the leader StatefulSet was last applied. */
  lwsUpdated: boolean;
  /** States of groups 0..sts.replicas-1 (only read when needed). */
  states: () => ReplicaState[];
}

export interface RollingOutput {
  partition: number;
  replicas: number;
  /** A surge group is being released (index of the highest group kept). */
  releasingSurgeTo?: number;
}

const nonZero = (n: number): number => Math.max(n, 0);

export function continuousReadyFromTail(states: ReplicaState[]): number {
  let n = 0;
  for (let i = states.length - 1; i >= 0; i--) {
    if (!states[i].ready || !states[i].updated) break;
    n++;
  }
  return n;
}

export function unreadyReplicas(states: ReplicaState[], lwsReplicas: number): number {
  let n = 0;
  for (let i = 0; i < lwsReplicas; i++) if (i >= states.length || !states[i].ready || !states[i].updated) n++;
  return n;
}

export function rollingUpdatePartition(
  states: ReplicaState[],
  stsReplicas: number,
  rollingStep: number,
  currentPartition: number,
): number {
  const stepPartition = nonZero(stsReplicas - continuousReadyFromTail(states) - rollingStep);
  let unavailable = 0;
  for (let i = 0; i < stepPartition; i++) if (!states[i]?.ready) unavailable++;
  let partition = stepPartition + unavailable;
  for (let i = Math.min(partition, stsReplicas - 1); i >= stepPartition; i--) {
    const s = states[i];
    if (!s || !s.ready || s.updated) partition = i;
    else break;
  }
  return Math.min(partition, currentPartition);
}

export function rollingUpdateParameters(input: RollingInput): RollingOutput {
  const out = compute(input);
  return { ...out, partition: Math.max(out.partition, input.lwsPartition) };
}

function compute(input: RollingInput): RollingOutput {
  const { lwsReplicas, sts } = input;
  if (!sts) return { partition: 0, replicas: lwsReplicas };
  const stsReplicas = sts.replicas;
  const maxSurge = Math.min(scaledValue(input.maxSurge, lwsReplicas, true), lwsReplicas);
  const burst = lwsReplicas + maxSurge;
  const want = (unready: number): { replicas: number; releasingSurgeTo?: number } => {
    if (unready <= maxSurge) {
      const final = lwsReplicas + nonZero(unready - 1);
      return final < stsReplicas ? { replicas: final, releasingSurgeTo: final } : { replicas: final };
    }
    return { replicas: burst };
  };
  if (input.lwsUpdated) return { partition: Math.min(lwsReplicas, stsReplicas), ...want(lwsReplicas) };
  const partition = sts.partition;
  if (partition === 0 && stsReplicas === lwsReplicas) return { partition: 0, replicas: lwsReplicas };
  const states = input.states();
  const unready = unreadyReplicas(states, lwsReplicas);
  if (sts.lwsReplicasAnnotation !== lwsReplicas)
    return { partition: Math.min(partition, burst), ...want(unready) };
  const step = scaledValue(input.maxUnavailable, lwsReplicas, false) + maxSurge - (burst - stsReplicas);
  return { partition: rollingUpdatePartition(states, stsReplicas, step, partition), ...want(unready) };
}
