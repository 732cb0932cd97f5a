// Table cells for built-in kinds, as `kubectl get` shows them.

import type { Node, Pod, StatefulSet } from '../types/workloads';
import type { KObject } from '../types/meta';
import { humanDuration } from '../util/duration';
import { isObject } from '../util/json';
import { age } from '../api/table';

export function podStatusReason(pod: Pod): string {
  const status = pod.status ?? {};
  let reason = status.reason || status.phase || 'Unknown';
  const inits = status.initContainerStatuses ?? [];
  const initCount = pod.spec.initContainers?.length ?? 0;
  let initializing = false;
  inits.forEach((c, i) => {
    if (initializing) return;
    const t = c.state.terminated;
    if (t && t.exitCode === 0) return;
    initializing = true;
    if (t) reason = t.reason ? `Init:${t.reason}` : `Init:ExitCode:${t.exitCode}`;
    else if (c.state.waiting?.reason && c.state.waiting.reason !== 'PodInitializing')
      reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${initCount}`;
  });
  if (!initializing) {
    let hasRunning = false;
    const cs = [...(status.containerStatuses ?? [])].reverse();
    for (const c of cs) {
      if (c.state.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state.terminated) reason = `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

export function podCells(obj: KObject, now: number): unknown[] {
  const pod = obj as Pod;
  const status = pod.status ?? {};
  const total = pod.spec.containers.length;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  for (const c of status.containerStatuses ?? []) {
    restarts += c.restartCount;
    if (c.ready && c.state.running) ready++;
    const finished = c.lastState.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
  }
  const restartCell =
    restarts > 0 && lastRestart > 0
      ? `${restarts} (${humanDuration(now - lastRestart)} ago)`
      : String(restarts);
  return [
    pod.metadata.name,
    `${ready}/${total}`,
    podStatusReason(pod),
    restartCell,
    age(pod, now),
    status.podIP ?? '<none>',
    pod.spec.nodeName ?? '<none>',
    '<none>',
    '<none>',
  ];
}

export function nodeCells(obj: KObject, now: number): unknown[] {
  const node = obj as Node;
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  let status = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  if (node.spec.unschedulable) status += ',SchedulingDisabled';
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  const info = isObject(node.status?.nodeInfo) ? node.status.nodeInfo : {};
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '<none>';
  return [
    node.metadata.name,
    status,
    roles.length ? roles.join(',') : '<none>',
    age(node, now),
    info.kubeletVersion ?? '',
    ip,
    '<none>',
    info.osImage ?? '',
    info.kernelVersion ?? '',
    info.containerRuntimeVersion ?? '',
  ];
}

export function serviceCells(obj: KObject, now: number): unknown[] {
  const spec = (isObject(obj.spec) ? obj.spec : {}) as Record<string, unknown>;
  const ports = Array.isArray(spec.ports)
    ? (spec.ports as Record<string, unknown>[])
        .map((p) => `${String(p.port)}/${String(p.protocol ?? 'TCP')}`)
        .join(',')
    : '';
  const selector = isObject(spec.selector)
    ? Object.entries(spec.selector)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',')
    : '<none>';
  return [
    obj.metadata.name,
    spec.type ?? 'ClusterIP',
    spec.clusterIP ?? '<none>',
    '<none>',
    ports || '<none>',
    age(obj, now),
    selector,
  ];
}

export function statefulSetCells(obj: KObject, now: number): unknown[] {
  const sts = obj as StatefulSet;
  const containers = sts.spec.template?.spec?.containers ?? [];
  return [
    sts.metadata.name,
    `${sts.status?.readyReplicas ?? 0}/${sts.spec.replicas ?? 1}`,
    age(sts, now),
    containers.map((c) => c.name).join(','),
    containers.map((c) => c.image ?? '').join(','),
  ];
}

export function namespaceCells(obj: KObject, now: number): unknown[] {
  const phase = isObject(obj.status) ? obj.status.phase : undefined;
  return [obj.metadata.name, phase ?? 'Active', age(obj, now)];
}

export function eventCells(obj: KObject, now: number): unknown[] {
  const involved = (isObject(obj.involvedObject) ? obj.involvedObject : {}) as Record<string, unknown>;
  const last = (obj.lastTimestamp ?? obj.eventTime ?? obj.metadata.creationTimestamp) as string | undefined;
  const lastSeen = last ? humanDuration(now - Date.parse(last)) : '<unknown>';
  const kind = String(involved.kind ?? '').toLowerCase();
  const source = isObject(obj.source) ? String(obj.source.component ?? '') : '';
  return [
    lastSeen,
    obj.type ?? '',
    obj.reason ?? '',
    `${kind}/${String(involved.name ?? '')}`,
    obj.message ?? '',
    String(involved.fieldPath ?? ''),
    source,
    obj.firstTimestamp ? humanDuration(now - Date.parse(String(obj.firstTimestamp))) : '<unknown>',
    obj.count ?? 1,
    obj.metadata.name,
  ];
}

export function dataCells(obj: KObject, now: number): unknown[] {
  const data = isObject(obj.data) ? Object.keys(obj.data).length : 0;
  const binary = isObject(obj.binaryData) ? Object.keys(obj.binaryData).length : 0;
  return [obj.metadata.name, data + binary, age(obj, now)];
}

export function secretCells(obj: KObject, now: number): unknown[] {
  const data = isObject(obj.data) ? Object.keys(obj.data).length : 0;
  return [obj.metadata.name, obj.type ?? 'Opaque', data, age(obj, now)];
}

export function leaseCells(obj: KObject, now: number): unknown[] {
  const holder = isObject(obj.spec) ? obj.spec.holderIdentity : undefined;
  return [obj.metadata.name, typeof holder === 'string' ? holder : '', age(obj, now)];
}

export function defaultCells(obj: KObject, now: number): unknown[] {
  return [obj.metadata.name, age(obj, now)];
}
