// What the upstream LWS pod webhook does to pods of a LeaderWorkerSet when they are created:
// group-index / worker-index / group-key labels, exclusive placement affinities, injected env.

import type { Container, EnvVar, Pod, PodAffinityTerm } from '../types/workloads';
import { sha1Hex } from '../util/hash';
import {
  ANN_EXCLUSIVE_TOPOLOGY,
  ANN_LEADER_NAME,
  ANN_SIZE,
  ANN_SUBDOMAIN_POLICY,
  ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY,
  ANN_SUBGROUP_SIZE,
  ENV_GROUP_SIZE,
  ENV_LEADER_ADDRESS,
  ENV_WORKER_INDEX,
  LABEL_GROUP_INDEX,
  LABEL_GROUP_KEY,
  LABEL_NAME,
  LABEL_SUBGROUP_INDEX,
  LABEL_SUBGROUP_KEY,
  LABEL_WORKER_INDEX,
} from './constants';
import { groupKey, leaderAddress, parentAndOrdinal } from './naming';

export function isLeaderPod(pod: Pod): boolean {
  return pod.metadata.labels?.[LABEL_WORKER_INDEX] === '0';
}

function exclusiveTerms(
  key: string,
  labelKey: string,
  topologyKey: string,
): { affinity: PodAffinityTerm; anti: PodAffinityTerm } {
  return {
    affinity: {
      labelSelector: { matchExpressions: [{ key: labelKey, operator: 'In', values: [key] }] },
      topologyKey,
    },
    anti: {
      labelSelector: {
        matchExpressions: [
          { key: labelKey, operator: 'Exists' },
          { key: labelKey, operator: 'NotIn', values: [key] },
        ],
      },
      topologyKey,
    },
  };
}

function withExclusiveAffinity(pod: Pod, key: string, topologyKey: string, labelKey: string): Pod {
  const aff = pod.spec.affinity ?? {};
  const hasAff = aff.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.some(
    (t) => t.topologyKey === topologyKey,
  );
  const hasAnti = aff.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.some(
    (t) => t.topologyKey === topologyKey,
  );
  if (hasAff && hasAnti) return pod;
  const { affinity, anti } = exclusiveTerms(key, labelKey, topologyKey);
  return {
    ...pod,
    spec: {
      ...pod.spec,
      affinity: {
        ...aff,
        podAffinity: {
          ...aff.podAffinity,
          requiredDuringSchedulingIgnoredDuringExecution: [
            ...(aff.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
            affinity,
          ],
        },
        podAntiAffinity: {
          ...aff.podAntiAffinity,
          requiredDuringSchedulingIgnoredDuringExecution: [
            ...(aff.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
            anti,
          ],
        },
      },
    },
  };
}

function subGroupIndex(size: number, subGroupSize: number, workerIndex: number): number {
  if ((size - 1) % subGroupSize === 0) return Math.floor((workerIndex - 1) / subGroupSize);
  return Math.floor(workerIndex / subGroupSize);
}

function prependEnv(c: Container, vars: EnvVar[]): Container {
  const existing = c.env ?? [];
  const missing = vars.filter((v) => !existing.some((e) => e.name === v.name));
  return missing.length ? { ...c, env: [...missing, ...existing] } : c;
}

/** Mutates (copies) a pod on creation; pods that do not belong to a LeaderWorkerSet are returned as is. */
export function mutateLwsPod(input: Pod): Pod {
  const labels0 = input.metadata.labels ?? {};
  if (labels0[LABEL_NAME] === undefined) return input;
  const annotations = input.metadata.annotations ?? {};
  const size = annotations[ANN_SIZE];
  if (size === undefined) return input;
  const name = input.metadata.name ?? '';
  const namespace = input.metadata.namespace ?? 'default';
  let pod: Pod = {
    ...input,
    metadata: { ...input.metadata, labels: { ...labels0 } },
    spec: { ...input.spec },
  };
  const labels = pod.metadata.labels as Record<string, string>;
  const sgSize = annotations[ANN_SUBGROUP_SIZE];
  if (isLeaderPod(pod)) {
    if (labels[LABEL_GROUP_INDEX] === undefined)
      labels[LABEL_GROUP_INDEX] = String(parentAndOrdinal(name)[1]);
    if (annotations[ANN_SUBDOMAIN_POLICY] === 'UniquePerReplica') pod.spec.subdomain = name;
    const key = labels[LABEL_GROUP_KEY] ?? groupKey(namespace, name);
    labels[LABEL_GROUP_KEY] = key;
    const topo = annotations[ANN_EXCLUSIVE_TOPOLOGY];
    if (topo) pod = withExclusiveAffinity(pod, key, topo, LABEL_GROUP_KEY);
    if (sgSize !== undefined && !labels[LABEL_SUBGROUP_INDEX]) {
      labels[LABEL_SUBGROUP_INDEX] = '0';
      const sgKey = sha1Hex(`${name}/0`);
      labels[LABEL_SUBGROUP_KEY] = sgKey;
      const sgTopo = annotations[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY];
      if (sgTopo) pod = withExclusiveAffinity(pod, sgKey, sgTopo, LABEL_SUBGROUP_KEY);
    }
  } else {
    const workerIndex = parentAndOrdinal(name)[1];
    labels[LABEL_WORKER_INDEX] = String(workerIndex);
    if (sgSize !== undefined && !labels[LABEL_SUBGROUP_INDEX]) {
      const idx = String(subGroupIndex(Number(size), Number(sgSize), workerIndex));
      labels[LABEL_SUBGROUP_INDEX] = idx;
      const sgKey = sha1Hex(`${annotations[ANN_LEADER_NAME] ?? ''}/${idx}`);
      labels[LABEL_SUBGROUP_KEY] = sgKey;
      const sgTopo = annotations[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY];
      if (sgTopo) pod = withExclusiveAffinity(pod, sgKey, sgTopo, LABEL_SUBGROUP_KEY);
    }
  }
  const leaderName = isLeaderPod(pod) ? name : (annotations[ANN_LEADER_NAME] ?? '');
  const vars: EnvVar[] = [
    { name: ENV_LEADER_ADDRESS, value: leaderAddress(leaderName, pod.spec.subdomain ?? '', namespace) },
    { name: ENV_GROUP_SIZE, value: size },
    { name: ENV_WORKER_INDEX, value: labels[LABEL_WORKER_INDEX] },
  ];
  pod.spec = {
    ...pod.spec,
    containers: pod.spec.containers.map((c) => prependEnv(c, vars)),
    ...(pod.spec.initContainers
      ? { initContainers: pod.spec.initContainers.map((c) => prependEnv(c, vars)) }
      : {}),
  };
  return pod;
}
