// Defaulting the API server applies to pods and pod templates (the parts that show in `-o yaml`).

import type { Container, PodSpec, Toleration } from '../types/workloads';
import { parseQuantity } from '../util/quantity';

function defaultContainer(c: Container): Container {
  const out: Container = { ...c };
  if (!out.imagePullPolicy) {
    const image = out.image ?? '';
    const tag = image.includes('@') ? 'digest' : (image.split('/').pop() ?? '').split(':')[1];
    out.imagePullPolicy = !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  out.terminationMessagePath ??= '/dev/termination-log';
  out.terminationMessagePolicy ??= 'File';
  const resources = { ...(out.resources ?? {}) };
  if (resources.limits && !resources.requests) resources.requests = { ...resources.limits };
  else if (resources.limits && resources.requests) {
    const requests = { ...resources.requests };
    for (const [k, v] of Object.entries(resources.limits)) if (requests[k] === undefined) requests[k] = v;
    resources.requests = requests;
  }
  out.resources = resources;
  if (out.ports) out.ports = out.ports.map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' }));
  return out;
}

export function defaultPodSpec(spec: PodSpec): PodSpec {
  const out: PodSpec = { ...spec };
  out.containers = (spec.containers ?? []).map(defaultContainer);
  if (spec.initContainers) out.initContainers = spec.initContainers.map(defaultContainer);
  out.restartPolicy ??= 'Always';
  out.terminationGracePeriodSeconds ??= 30;
  out.dnsPolicy ??= 'ClusterFirst';
  out.securityContext ??= {};
  out.schedulerName ??= 'default-scheduler';
  out.enableServiceLinks ??= true;
  out.preemptionPolicy ??= 'PreemptLowerPriority';
  out.priority ??= 0;
  return out;
}

const DEFAULT_TOLERATIONS: Toleration[] = [
  {
    key: 'node.kubernetes.io/not-ready',
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: 300,
  } as Toleration,
  {
    key: 'node.kubernetes.io/unreachable',
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: 300,
  } as Toleration,
];

/** Pod-level admission defaults (service account, default tolerations). */
export function defaultPodAdmission(spec: PodSpec): PodSpec {
  const out: PodSpec = { ...spec };
  out.serviceAccountName ??= 'default';
  out.serviceAccount ??= out.serviceAccountName;
  const tolerations = [...(spec.tolerations ?? [])];
  for (const t of DEFAULT_TOLERATIONS) {
    if (!tolerations.some((x) => x.key === t.key && (x.effect === t.effect || !x.effect)))
      tolerations.push(t);
  }
  out.tolerations = tolerations;
  return out;
}

/** QoS class from container resources. */
export function qosClass(spec: PodSpec): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...spec.containers, ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    if (Object.keys(limits).length || Object.keys(requests).length) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = limits[r];
      const q = requests[r] ?? l;
      if (l === undefined || parseQuantity(l) !== parseQuantity(q)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
