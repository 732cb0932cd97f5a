/**
 * Who owns an LWS's `spec.replicas` (the number of groups), decided from the stored service alone.
 *
 * - `spec`: no autoscaling and no pin: the reconciler applies `spec.replicas.initial` (a PATCH of
 *   `replicas.initial` scales).
 * - `admin`: an admin pinned the service (`POST …/scale`): the reconciler applies the pinned count and
 *   the autoscaler leaves the service alone until autoscaling is resumed.
 * - `autoscaler`: the autoscaler writes `spec.replicas` through the `/scale` subresource (field
 *   manager `troupe-autoscaler`); the reconciler omits the field from its apply so the two never fight.
 *   When it has to create the LWS (first deploy, or it was deleted by hand) it starts from the
 *   autoscaler's last decision, else from `replicas.initial`.
 */
export type ReplicasOwner = 'spec' | 'admin' | 'autoscaler';

export interface ReplicasFacts {
  spec: { replicas: { initial: number } };
  /** Stored autoscaling policy; only `enabled` matters here. */
  autoscaling: { enabled?: boolean } | null;
  pinnedReplicas: number | null;
  /** The autoscaler's last decision, when it made one. */
  autoscalerState: { desired?: number } | null;
}

export function replicasOwner(s: Pick<ReplicasFacts, 'autoscaling' | 'pinnedReplicas'>): ReplicasOwner {
  if (s.pinnedReplicas !== null) return 'admin';
  return s.autoscaling?.enabled === true ? 'autoscaler' : 'spec';
}

/**
 * The groups a reconcile should write into `spec.replicas`, or `undefined` to leave the field to its
 * owner. `lwsExists`: whether the cluster has the LWS now (the watch cache says).
 */
export function replicasToApply(s: ReplicasFacts, lwsExists: boolean): number | undefined {
  switch (replicasOwner(s)) {
    case 'admin':
      return s.pinnedReplicas!;
    case 'spec':
      return s.spec.replicas.initial;
    case 'autoscaler':
      if (lwsExists) return undefined;
      return typeof s.autoscalerState?.desired === 'number'
        ? s.autoscalerState.desired
        : s.spec.replicas.initial;
  }
}

/** The groups the service should have by its own records (used before the LWS reports any). */
export function expectedReplicas(s: ReplicasFacts): number {
  return replicasToApply(s, false)!;
}
