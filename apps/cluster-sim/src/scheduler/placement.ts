// Scheduling decisions (pure): filter nodes as the default scheduler's plugins do (unschedulable,
// taints, node selector / affinity, resources, inter-pod affinity), then pick a node.

import { fromLabelSelector, matchesLabels, type Requirement } from '../selectors/label-selector';
import type { Affinity, NodeSelectorTerm, PodAffinityTerm, Taint, Toleration } from '../types/workloads';

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  allocatable: Record<string, number>;
  unschedulable: boolean;
  taints: Taint[];
}

export interface PodView {
  namespace: string;
  labels: Record<string, string>;
  requests: Record<string, number>;
  nodeSelector?: Record<string, string>;
  affinity?: Affinity;
  tolerations?: Toleration[];
}

export interface PlacedPod extends PodView {
  nodeName: string;
}

export interface ClusterView {
  nodes: NodeView[];
  placed: PlacedPod[];
}

export type PlacementResult =
  { node: string } | { node?: undefined; message: string; reasons: Record<string, number> };

function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function nodeTermMatches(term: NodeSelectorTerm, node: NodeView): boolean {
  const exprs = term.matchExpressions ?? [];
  const reqs: Requirement[] = fromLabelSelector({ matchExpressions: exprs });
  if (!matchesLabels(reqs, node.labels)) return false;
  for (const f of term.matchFields ?? []) {
    if (f.key !== 'metadata.name') return false;
    const values = f.values ?? [];
    if (f.operator === 'In' && !values.includes(node.name)) return false;
    if (f.operator === 'NotIn' && values.includes(node.name)) return false;
  }
  return true;
}

function nodeAffinityMatches(pod: PodView, node: NodeView): boolean {
  for (const [k, v] of Object.entries(pod.nodeSelector ?? {})) if (node.labels[k] !== v) return false;
  const terms = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length && !terms.some((t) => nodeTermMatches(t, node))) return false;
  return true;
}

function termMatchesPod(term: PodAffinityTerm, ownerNamespace: string, pod: PodView): boolean {
  const namespaces = term.namespaces && term.namespaces.length ? term.namespaces : [ownerNamespace];
  if (!namespaces.includes(pod.namespace)) return false;
  return matchesLabels(fromLabelSelector(term.labelSelector ?? {}), pod.labels);
}

const REASON = {
  unschedulable: 'node(s) were unschedulable',
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  affinity: "node(s) didn't match pod affinity rules",
  antiAffinity: "node(s) didn't match pod anti-affinity rules",
  existingAnti: "node(s) didn't satisfy existing pods anti-affinity rules",
  tooManyPods: 'Too many pods',
};

/** Per-run indexes over the cluster view (see prepare / addPlaced). */
export interface Prepared {
  used: Map<string, Record<string, number>>;
  podCount: Map<string, number>;
  nodeOf: Map<string, NodeView>;
  /** Placed pods that carry required anti-affinity terms. */
  withAnti: PlacedPod[];
}

function hasAnti(p: PodView): boolean {
  return (p.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
}

/** Why `pod` cannot go on `node` (first failing filter), or undefined when it fits. */
export function unfit(pod: PodView, node: NodeView, view: ClusterView, pre: Prepared): string[] | undefined {
  const { used, podCount, nodeOf } = pre;
  if (node.unschedulable) return [REASON.unschedulable];
  const untolerated = node.taints.find(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.tolerations, t),
  );
  if (untolerated) return [`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`];
  if (!nodeAffinityMatches(pod, node)) return [REASON.nodeAffinity];
  const usage = used.get(node.name) ?? {};
  const insufficient: string[] = [];
  if ((podCount.get(node.name) ?? 0) + 1 > (node.allocatable.pods ?? 110))
    insufficient.push(REASON.tooManyPods);
  for (const [res, amount] of Object.entries(pod.requests)) {
    if (amount <= 0) continue;
    const free = (node.allocatable[res] ?? 0) - (usage[res] ?? 0);
    if (amount > free + 1e-9) insufficient.push(`Insufficient ${res}`);
  }
  if (insufficient.length) return insufficient;
  const domain = (nodeName: string, key: string): string | undefined => nodeOf.get(nodeName)?.labels[key];
  for (const term of pod.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    const value = node.labels[term.topologyKey];
    if (value === undefined) return [REASON.affinity];
    const matching = view.placed.filter((p) => termMatchesPod(term, pod.namespace, p));
    if (matching.length === 0) {
      if (!termMatchesPod(term, pod.namespace, pod)) return [REASON.affinity];
      continue;
    }
    if (!matching.some((p) => domain(p.nodeName, term.topologyKey) === value)) return [REASON.affinity];
  }
  for (const term of pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    const value = node.labels[term.topologyKey];
    if (value === undefined) continue;
    if (
      view.placed.some(
        (p) => domain(p.nodeName, term.topologyKey) === value && termMatchesPod(term, pod.namespace, p),
      )
    ) {
      return [REASON.antiAffinity];
    }
  }
  for (const p of pre.withAnti) {
    for (const term of p.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      const value = node.labels[term.topologyKey];
      if (
        value !== undefined &&
        domain(p.nodeName, term.topologyKey) === value &&
        termMatchesPod(term, p.namespace, pod)
      ) {
        return [REASON.existingAnti];
      }
    }
  }
  return undefined;
}

/** Resources requested by placed pods and pod counts per node, and other per-run indexes. */
export function prepare(view: ClusterView): Prepared {
  const pre: Prepared = {
    used: new Map(),
    podCount: new Map(),
    nodeOf: new Map(view.nodes.map((n) => [n.name, n])),
    withAnti: [],
  };
  for (const p of view.placed) account(pre, p);
  return pre;
}

function account(pre: Prepared, p: PlacedPod): void {
  const u = pre.used.get(p.nodeName) ?? {};
  for (const [r, v] of Object.entries(p.requests)) u[r] = (u[r] ?? 0) + v;
  pre.used.set(p.nodeName, u);
  pre.podCount.set(p.nodeName, (pre.podCount.get(p.nodeName) ?? 0) + 1);
  if (hasAnti(p)) pre.withAnti.push(p);
}

/** Records a pod just bound, in the view and the indexes. */
export function addPlaced(view: ClusterView, pre: Prepared, p: PlacedPod): void {
  view.placed.push(p);
  account(pre, p);
}

export function failureMessage(total: number, reasons: Record<string, number>): string {
  const parts = Object.entries(reasons)
    .map(([r, n]) => `${n} ${r}`)
    .sort();
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}

/**
 * Picks a node: among feasible nodes, the one with the most free GPUs, then the least requested CPU
 * (like the default LeastAllocated scoring), then by name.
 */
export function placePod(pod: PodView, view: ClusterView, pre = prepare(view)): PlacementResult {
  const reasons: Record<string, number> = {};
  let best: { node: NodeView; score: [number, number] } | undefined;
  for (const node of view.nodes) {
    const why = unfit(pod, node, view, pre);
    if (why) {
      for (const r of why) reasons[r] = (reasons[r] ?? 0) + 1;
      continue;
    }
    const u = pre.used.get(node.name) ?? {};
    const freeGpu = (node.allocatable['nvidia.com/gpu'] ?? 0) - (u['nvidia.com/gpu'] ?? 0);
    const cpuFrac = (u.cpu ?? 0) / Math.max(node.allocatable.cpu ?? 1, 1e-9);
    const score: [number, number] = [freeGpu, -cpuFrac];
    if (!best || score[0] > best.score[0] || (score[0] === best.score[0] && score[1] > best.score[1]))
      best = { node, score };
  }
  if (best) return { node: best.node.name };
  if (view.nodes.length === 0) return { message: 'no nodes available to schedule pods', reasons };
  return { message: failureMessage(view.nodes.length, reasons), reasons };
}
