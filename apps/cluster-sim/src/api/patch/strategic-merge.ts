// Strategic merge patch for built-in kinds: a merge patch where lists of named items are merged by
// their key, with the directives kubectl sends ($patch, $setElementOrder, $retainKeys,
// $deleteFromPrimitiveList).

import { isObject } from '../../util/json';

const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  hostAliases: 'ip',
  resourceClaims: 'name',
  schedulingGates: 'name',
  topologySpreadConstraints: 'topologyKey',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
  taints: 'key',
  addresses: 'type',
};
const PRIMITIVE_MERGE = new Set(['finalizers']);

function mergeKey(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') {
    if (items.every((i) => isObject(i) && i.containerPort !== undefined)) return 'containerPort';
    if (items.every((i) => isObject(i) && i.port !== undefined)) return 'port';
    return undefined;
  }
  return MERGE_KEYS[field];
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value))
    return value
      .filter((i) => !(isObject(i) && i.$patch !== undefined && Object.keys(i).length === 1))
      .map(stripDirectives);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    if (v === null) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

function mergeList(current: unknown, patch: unknown[], key: string): unknown[] {
  if (patch.some((i) => isObject(i) && i.$patch === 'replace')) return stripDirectives(patch) as unknown[];
  const out = Array.isArray(current) ? current.slice() : [];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const idx = out.findIndex((c) => isObject(c) && c[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item);
    else out.push(stripDirectives(item));
  }
  return out;
}

function reorder(list: unknown, order: unknown, key: string | undefined): unknown {
  if (!Array.isArray(list) || !Array.isArray(order)) return list;
  const keyOf = (i: unknown): unknown => (key && isObject(i) ? i[key] : isObject(order[0]) ? undefined : i);
  const orderKeys = order.map((o) => (key && isObject(o) ? o[key] : o));
  const ranked = list.map((item, i) => {
    const r = orderKeys.indexOf(keyOf(item));
    return { item, rank: r < 0 ? orderKeys.length + i : r };
  });
  return ranked.sort((a, b) => a.rank - b.rank).map((r) => r.item);
}

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  const orders: [string, unknown][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) {
      orders.push([k.slice('$setElementOrder/'.length), v]);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v))
        out[field] = (out[field] as unknown[]).filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (isObject(v) && v.$patch === 'delete') {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      if (PRIMITIVE_MERGE.has(k)) {
        const cur = Array.isArray(out[k]) ? (out[k] as unknown[]) : [];
        out[k] = [...cur, ...v.filter((x) => !cur.includes(x))];
        continue;
      }
      const key = mergeKey(k, v);
      out[k] = key ? mergeList(out[k], v, key) : stripDirectives(v);
      continue;
    }
    out[k] = isObject(v) ? strategicMergePatch(out[k], v) : v;
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  for (const [field, order] of orders) {
    out[field] = reorder(out[field], order, Array.isArray(order) ? mergeKey(field, order) : undefined);
  }
  return out;
}
