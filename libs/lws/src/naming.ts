// Names, labels and annotations of the LeaderWorkerSet controller (v0.7), shared by the renderer and
// the cluster simulator, plus the labels Troupe puts on what it renders. Pure.

import { createHash } from 'node:crypto';

export const LWS_GROUP = 'leaderworkerset.x-k8s.io';
export const LWS_VERSION = 'v1';
export const LWS_API_VERSION = 'leaderworkerset.x-k8s.io/v1';
export const LWS_KIND = 'LeaderWorkerSet';
export const LWS_PLURAL = 'leaderworkersets';

const P = 'leaderworkerset.sigs.k8s.io';

/** Labels the LWS controller puts on every pod. */
export const LWS_LABELS = {
  name: `${P}/name`,
  groupIndex: `${P}/group-index`,
  workerIndex: `${P}/worker-index`,
  groupKey: `${P}/group-key`,
  templateRevisionHash: `${P}/template-revision-hash`,
  subgroupIndex: `${P}/subgroup-index`,
  subgroupKey: `${P}/subgroup-key`,
} as const;

/** Annotations the LWS controller reads (on the LWS) or writes (on pods). */
export const LWS_ANNOTATIONS = {
  size: `${P}/size`,
  leaderName: `${P}/leader-name`,
  exclusiveTopology: `${P}/exclusive-topology`,
  subgroupExclusiveTopology: `${P}/subgroup-exclusive-topology`,
} as const;

/** Environment the LWS controller injects, first, into every container and init container. */
export const LWS_ENV = {
  leaderAddress: 'LWS_LEADER_ADDRESS',
  groupSize: 'LWS_GROUP_SIZE',
  workerIndex: 'LWS_WORKER_INDEX',
} as const;

/** Troupe's own labels and annotations. */
export const TROUPE_LABELS = {
  service: 'troupe.io/service',
  project: 'troupe.io/project',
  modelVersion: 'troupe.io/model-version',
  /** `leader` on the leader template (a Service selecting leaders uses it), `worker` on workers. */
  role: 'role',
} as const;

export const TROUPE_ANNOTATIONS = {
  /** sha256 of the rendered spec (without `replicas`, which the autoscaler owns): drift checks. */
  specHash: 'troupe.io/spec-hash',
  projectName: 'troupe.io/project-name',
  model: 'troupe.io/model',
  servedModelName: 'troupe.io/served-model-name',
} as const;

export const ROLE_LEADER = 'leader';
export const ROLE_WORKER = 'worker';

type Named = string | { metadata: { name?: string } };

function nameOf(lws: Named): string {
  const name = typeof lws === 'string' ? lws : lws.metadata.name;
  if (!name) throw new Error('LeaderWorkerSet has no metadata.name');
  return name;
}

/** The leader StatefulSet is named like the LWS. */
export function leaderStatefulSetName(lws: Named): string {
  return nameOf(lws);
}

/** Leader pod of group i: `NAME-i`. */
export function leaderPodName(lws: Named, group: number): string {
  return `${nameOf(lws)}-${group}`;
}

/** Worker StatefulSet of group i: `NAME-i` (its pods are `NAME-i-1 … NAME-i-(size-1)`). */
export function workerStatefulSetName(lws: Named, group: number): string {
  return `${nameOf(lws)}-${group}`;
}

/** Worker j (1-based) of group i: `NAME-i-j`. */
export function workerPodName(lws: Named, group: number, worker: number): string {
  return `${nameOf(lws)}-${group}-${worker}`;
}

/** Every pod name of the LWS, leaders first in each group: `NAME-0, NAME-0-1, …, NAME-(R-1)-(size-1)`. */
export function podNames(lws: Named, replicas: number, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < replicas; i++) {
    out.push(leaderPodName(lws, i));
    for (let j = 1; j < size; j++) out.push(workerPodName(lws, i, j));
  }
  return out;
}

/** Value of the group-key label: sha1 hex of `NS/NAME-i`. */
export function groupKey(namespace: string, name: string, group: number): string {
  return createHash('sha1').update(`${namespace}/${name}-${group}`).digest('hex');
}

/** Headless Service subdomain of group i: `NAME` (Shared, the default) or `NAME-i` (UniquePerReplica). */
export function subdomainFor(
  name: string,
  group: number,
  policy: 'Shared' | 'UniquePerReplica' = 'Shared',
): string {
  return policy === 'UniquePerReplica' ? `${name}-${group}` : name;
}

/** LWS_LEADER_ADDRESS of group i: `NAME-i.<subdomain>.NS`, the subdomain defaulting to `NAME`. */
export function leaderAddress(name: string, group: number, namespace: string, subdomain?: string): string {
  return `${name}-${group}.${subdomain ?? name}.${namespace}`;
}

/** status.hpaPodSelector: the leaders of the LWS. */
export function hpaPodSelector(name: string): string {
  return `${LWS_LABELS.name}=${name},${LWS_LABELS.workerIndex}=0`;
}

/** Label selector (as a map) of the leader pods of a Troupe-rendered LWS, for a ClusterIP Service. */
export function leaderSelector(name: string): Record<string, string> {
  return { [LWS_LABELS.name]: name, [TROUPE_LABELS.role]: ROLE_LEADER };
}

/** Kubernetes label value: empty, or up to 63 of `[A-Za-z0-9_.-]` starting and ending alphanumeric. */
export const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
export const LABEL_VALUE_MAX = 63;

export function isValidLabelValue(value: string): boolean {
  return value.length <= LABEL_VALUE_MAX && LABEL_VALUE_RE.test(value);
}

const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Kubernetes qualified name (label / annotation key): `[prefix/]name`, prefix a DNS subdomain ≤ 253. */
export function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (
    prefix !== undefined &&
    (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix))
  ) {
    return false;
  }
  return name.length > 0 && name.length <= 63 && LABEL_NAME_RE.test(name);
}

/**
 * Longest LWS name Troupe renders. Pods are `NAME-i-j` (a DNS label, ≤ 63) and the StatefulSet
 * controller labels the worker set's pods `controller-revision-hash: NAME-i-<hash up to 10>` (a label
 * value, ≤ 63): 47 leaves room for 4-digit group indexes.
 */
export const MAX_LWS_NAME_LENGTH = 47;
