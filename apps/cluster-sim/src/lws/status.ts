// LeaderWorkerSet status and conditions from the observed groups (pure), as upstream computes them.

import type { Condition } from '../types/meta';

export interface GroupObservation {
  index: number;
  /** Leader pod running and ready, and the worker StatefulSet ready (when size > 1). */
  ready: boolean;
  /** Leader pod and worker StatefulSet on the current revision. */
  updated: boolean;
  /** size > 1 and the worker StatefulSet does not exist (yet): the group is not counted. */
  missingWorkers: boolean;
}

export interface StatusInput {
  replicas: number;
  partition: number;
  groups: GroupObservation[];
  conditions: Condition[];
  now: string;
}

export interface StatusOutput {
  readyReplicas: number;
  updatedReplicas: number;
  conditions: Condition[];
  /** Set when the conditions changed: the Event upstream records. */
  event?: { reason: string; message: string };
}

type ConditionType = 'Available' | 'Progressing' | 'UpdateInProgress';

export function makeCondition(type: ConditionType, now: string): Condition {
  switch (type) {
    case 'Available':
      return {
        type,
        status: 'True',
        reason: 'AllGroupsReady',
        message: 'All replicas are ready',
        lastTransitionTime: now,
      };
    case 'UpdateInProgress':
      return {
        type,
        status: 'True',
        reason: 'GroupsUpdating',
        message: 'Rolling Upgrade is in progress',
        lastTransitionTime: now,
      };
    default:
      return {
        type: 'Progressing',
        status: 'True',
        reason: 'GroupsProgressing',
        message: 'Replicas are progressing',
        lastTransitionTime: now,
      };
  }
}

function exclusive(a: string, b: string): boolean {
  const pair = (x: string, y: string): boolean => (a === x && b === y) || (a === y && b === x);
  return pair('Available', 'Progressing') || pair('Available', 'UpdateInProgress');
}

/** Sets a True condition; returns whether anything changed. Mutates `conditions`. */
export function setCondition(conditions: Condition[], next: Condition): boolean {
  let found = false;
  let changed = false;
  for (let i = 0; i < conditions.length; i++) {
    const cur = conditions[i];
    if (cur.type === next.type) {
      found = true;
      if (cur.status !== next.status) {
        conditions[i] = next;
        changed = true;
      }
    } else if (exclusive(cur.type, next.type) && cur.status === 'True' && next.status === 'True') {
      conditions[i] = { ...cur, status: 'False', lastTransitionTime: next.lastTransitionTime };
      changed = true;
    }
  }
  if (!found && next.status === 'True') {
    conditions.push(next);
    changed = true;
  }
  return changed;
}

export function computeStatus(input: StatusInput): StatusOutput {
  let ready = 0;
  let updated = 0;
  let readyNonBurst = 0;
  let partitionedCurrent = 0;
  let partitionedUpdated = 0;
  let partitionedUpdatedAndReady = 0;
  for (const g of input.groups) {
    if (g.missingWorkers) continue;
    const inPartition = g.index < input.replicas && g.index >= input.partition;
    if (inPartition) partitionedCurrent++;
    if (g.ready) ready++;
    if (g.updated) {
      updated++;
      if (inPartition) partitionedUpdated++;
    }
    if (g.index < input.replicas) {
      if (g.ready) readyNonBurst++;
      if (inPartition && g.ready && g.updated) partitionedUpdatedAndReady++;
    }
  }
  const wanted: Condition[] =
    partitionedUpdated < partitionedCurrent
      ? [makeCondition('UpdateInProgress', input.now), makeCondition('Progressing', input.now)]
      : readyNonBurst === input.replicas && partitionedUpdatedAndReady === partitionedCurrent
        ? [makeCondition('Available', input.now)]
        : [makeCondition('Progressing', input.now)];
  const conditions = input.conditions.map((c) => ({ ...c }));
  let changed = false;
  for (const c of wanted) changed = setCondition(conditions, c) || changed;
  const out: StatusOutput = { readyReplicas: ready, updatedReplicas: updated, conditions };
  if (changed) {
    out.event = {
      reason: wanted[0].reason as string,
      message: `${wanted[0].message}, with ${ready} groups ready of total ${input.replicas} groups`,
    };
  }
  return out;
}
