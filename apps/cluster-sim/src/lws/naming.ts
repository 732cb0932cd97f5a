// Names and keys of the objects the LWS controller creates (pure).

import { sha1Hex } from '../util/hash';

export const leaderStatefulSetName = (lwsName: string): string => lwsName;
export const workerStatefulSetName = (lwsName: string, group: number): string => `${lwsName}-${group}`;
export const leaderPodName = (lwsName: string, group: number): string => `${lwsName}-${group}`;
export const workerPodName = (lwsName: string, group: number, worker: number): string =>
  `${lwsName}-${group}-${worker}`;

/** label group-key: sha1 of "namespace/leader-pod-name". */
export const groupKey = (namespace: string, leaderPod: string): string =>
  sha1Hex(`${namespace}/${leaderPod}`);

/** LWS_LEADER_ADDRESS: "<leader pod>.<subdomain>.<namespace>". */
export const leaderAddress = (leaderPod: string, subdomain: string, namespace: string): string =>
  `${leaderPod}.${subdomain}.${namespace}`;

/** Splits "name-3" into ["name", 3]; ordinal -1 when there is none. */
export function parentAndOrdinal(podName: string): [string, number] {
  const m = /^(.*)-(\d+)$/.exec(podName);
  return m ? [m[1], Number(m[2])] : [podName, -1];
}

/** "leaderworkerset.sigs.k8s.io/name=NAME,leaderworkerset.sigs.k8s.io/worker-index=0" */
export const hpaPodSelector = (lwsName: string): string =>
  `leaderworkerset.sigs.k8s.io/name=${lwsName},leaderworkerset.sigs.k8s.io/worker-index=0`;
