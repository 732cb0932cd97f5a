// Field paths and field sets, in the spirit of structured-merge-diff: every leaf field of an object
// becomes a path; lists of named items ("associative lists") are addressed by their key, other lists
// are atomic (one leaf). Paths are strings of FieldsV1 elements ("f:spec", 'k:{"name":"x"}', ".")
// joined by SEP, so that sets of them are plain Set<string>.

import { deepEqual, isObject } from '../../util/json';

export const SEP = '\u0000';

/** Associative lists and their key field, by field name (pod, container and service shapes). */
const LIST_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  imagePullSecrets: ['name'],
  resourceClaims: ['name'],
  schedulingGates: ['name'],
  hostAliases: ['ip'],
  conditions: ['type'],
  containerStatuses: ['name'],
  initContainerStatuses: ['name'],
};

/** Key fields of a list under `field`, if it is associative and every item carries the key. */
export function listKeysFor(field: string | undefined, list: unknown[]): string[] | undefined {
  if (field === undefined) return undefined;
  let keys = LIST_KEYS[field];
  if (!keys && field === 'ports') {
    if (list.every((i) => isObject(i) && i.containerPort !== undefined)) keys = ['containerPort'];
    else if (list.every((i) => isObject(i) && i.port !== undefined)) keys = ['port'];
  }
  if (!keys) return undefined;
  return list.every((i) => isObject(i) && keys.every((k) => i[k] !== undefined)) ? keys : undefined;
}

export function keyElement(item: Record<string, unknown>, keys: string[]): string {
  const keyObj: Record<string, unknown> = {};
  for (const k of [...keys].sort()) keyObj[k] = item[k];
  return `k:${JSON.stringify(keyObj)}`;
}

/** Leaf paths of `value` with their values. `prefix` is the path of `value` itself. */
export function leafPaths(
  value: unknown,
  prefix = '',
  field?: string,
  out = new Map<string, unknown>(),
): Map<string, unknown> {
  if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    if (keys.length === 0) {
      if (prefix) out.set(prefix, value);
      return out;
    }
    for (const k of keys) leafPaths(value[k], join(prefix, `f:${k}`), k, out);
    return out;
  }
  if (Array.isArray(value)) {
    const keys = listKeysFor(field, value);
    if (keys) {
      for (const item of value as Record<string, unknown>[]) {
        const itemPath = join(prefix, keyElement(item, keys));
        out.set(join(itemPath, '.'), keyOf(item, keys));
        for (const k of Object.keys(item)) {
          if (item[k] !== undefined) leafPaths(item[k], join(itemPath, `f:${k}`), k, out);
        }
      }
      return out;
    }
  }
  if (prefix) out.set(prefix, value);
  return out;
}

function keyOf(item: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of keys) o[k] = item[k];
  return o;
}

function join(prefix: string, element: string): string {
  return prefix ? `${prefix}${SEP}${element}` : element;
}

function parseKey(element: string): Record<string, unknown> {
  return JSON.parse(element.slice(2)) as Record<string, unknown>;
}

function matchesKey(item: unknown, key: Record<string, unknown>): boolean {
  return isObject(item) && Object.entries(key).every(([k, v]) => deepEqual(item[k], v));
}

/** The value at a path, or undefined. For "." the key of the list item when it exists. */
export function valueAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const el of path.split(SEP)) {
    if (el === '.') return cur;
    if (el.startsWith('f:')) {
      if (!isObject(cur)) return undefined;
      cur = cur[el.slice(2)];
    } else if (el.startsWith('k:')) {
      if (!Array.isArray(cur)) return undefined;
      const key = parseKey(el);
      cur = cur.find((i) => matchesKey(i, key));
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** A copy of `obj` without the field at `path` (maps emptied by the removal are removed too). */
export function removePath(obj: unknown, path: string): unknown {
  const els = path.split(SEP);
  return removeAt(obj, els, 0).value;
}

function removeAt(cur: unknown, els: string[], i: number): { value: unknown; removed: boolean } {
  const el = els[i];
  const last = i === els.length - 1 || (i === els.length - 2 && els[i + 1] === '.');
  if (el.startsWith('f:') && isObject(cur)) {
    const k = el.slice(2);
    if (!(k in cur)) return { value: cur, removed: false };
    const copy = { ...cur };
    if (last) {
      delete copy[k];
      return { value: copy, removed: true };
    }
    const r = removeAt(cur[k], els, i + 1);
    if (!r.removed) return { value: cur, removed: false };
    if (r.value === undefined || (isObject(r.value) && Object.keys(r.value).length === 0)) delete copy[k];
    else copy[k] = r.value;
    return { value: copy, removed: true };
  }
  if (el.startsWith('k:') && Array.isArray(cur)) {
    const key = parseKey(el);
    const idx = cur.findIndex((item) => matchesKey(item, key));
    if (idx < 0) return { value: cur, removed: false };
    const copy = cur.slice();
    if (last) {
      copy.splice(idx, 1);
      return { value: copy.length === 0 ? undefined : copy, removed: true };
    }
    const r = removeAt(cur[idx], els, i + 1);
    if (!r.removed) return { value: cur, removed: false };
    copy[idx] = r.value;
    return { value: copy, removed: true };
  }
  return { value: cur, removed: false };
}

/** FieldsV1 JSON tree from a set of paths. */
export function toFieldsV1(paths: Iterable<string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const path of paths) {
    let node = root;
    for (const el of path.split(SEP)) {
      let next = node[el] as Record<string, unknown> | undefined;
      if (!next) {
        next = {};
        node[el] = next;
      }
      node = next;
    }
  }
  return root;
}

/** Set of paths from a FieldsV1 tree: every empty node is a path. */
export function fromFieldsV1(tree: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (!isObject(tree)) return out;
  for (const [el, child] of Object.entries(tree)) {
    const p = join(prefix, el);
    if (!isObject(child) || Object.keys(child).length === 0) out.add(p);
    else fromFieldsV1(child, p, out);
  }
  return out;
}

/** ".spec.containers[name="nginx"].image" */
export function displayPath(path: string): string {
  let out = '';
  for (const el of path.split(SEP)) {
    if (el === '.') continue;
    if (el.startsWith('f:')) out += `.${el.slice(2)}`;
    else if (el.startsWith('k:')) {
      const key = parseKey(el);
      out += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    }
  }
  return out;
}

/** True when `path` is `prefix` or lies under it. */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix + SEP);
}
