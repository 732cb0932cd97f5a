// metadata.managedFields: decoding, encoding and the bookkeeping of non-apply writes.

import type { KObject, ManagedFieldsEntry } from '../../types/meta';
import { deepEqual, isObject } from '../../util/json';
import { fromFieldsV1, leafPaths, SEP, toFieldsV1 } from './fieldset';

export interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource?: string;
  apiVersion: string;
  time?: string;
  fields: Set<string>;
}

export function managerId(m: { manager: string; operation: string; subresource?: string }): string {
  return `${m.manager}\u0001${m.operation}\u0001${m.subresource ?? ''}`;
}

export function decodeManagers(entries: ManagedFieldsEntry[] | undefined): Manager[] {
  return (entries ?? []).map((e) => ({
    manager: e.manager,
    operation: e.operation,
    subresource: e.subresource,
    apiVersion: e.apiVersion,
    time: e.time,
    fields: fromFieldsV1(e.fieldsV1 ?? {}),
  }));
}

export function encodeManagers(managers: Manager[]): ManagedFieldsEntry[] | undefined {
  const out: ManagedFieldsEntry[] = [];
  for (const m of managers) {
    if (m.fields.size === 0) continue;
    const e: ManagedFieldsEntry = {
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      time: m.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1([...m.fields].sort()),
    };
    if (m.subresource) e.subresource = m.subresource;
    out.push(e);
  }
  return out.length ? out : undefined;
}

const IGNORED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

/**
 * The part of an object whose fields are tracked for a write to `subresource`: never apiVersion,
 * kind or server-set metadata; only `status` for the status subresource; no `status` for the main
 * resource when a status subresource exists.
 */
export function trackedContent(
  obj: unknown,
  subresource: string | undefined,
  hasStatusSubresource: boolean,
): Record<string, unknown> {
  if (!isObject(obj)) return {};
  if (subresource === 'status') return isObject(obj.status) ? { status: obj.status } : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || v === undefined) continue;
    if (k === 'status' && hasStatusSubresource) continue;
    if (k === 'metadata' && isObject(v)) {
      const meta: Record<string, unknown> = {};
      for (const [mk, mv] of Object.entries(v))
        if (!IGNORED_METADATA.has(mk) && mv !== undefined) meta[mk] = mv;
      if (Object.keys(meta).length) out.metadata = meta;
      continue;
    }
    out[k] = v;
  }
  return out;
}

export interface UpdateOwnership {
  manager: string;
  subresource?: string;
  apiVersion: string;
  time: string;
  hasStatusSubresource: boolean;
}

/**
 * Ownership after a non-apply write (create, update, patch): the writer takes the fields it changed,
 * which other managers lose; fields that disappeared are dropped from every manager.
 */
export function recordUpdate(
  oldObj: KObject | undefined,
  newObj: KObject,
  o: UpdateOwnership,
): ManagedFieldsEntry[] | undefined {
  const before = leafPaths(trackedContent(oldObj, o.subresource, o.hasStatusSubresource));
  const after = leafPaths(trackedContent(newObj, o.subresource, o.hasStatusSubresource));
  const changed = new Set<string>();
  for (const [p, v] of after) if (!before.has(p) || !deepEqual(before.get(p), v)) changed.add(p);
  const removed: string[] = [];
  for (const p of before.keys()) if (!after.has(p)) removed.push(p);
  const managers = decodeManagers(newObj.metadata.managedFields ?? oldObj?.metadata.managedFields);
  if (changed.size === 0 && removed.length === 0) return encodeManagers(managers);
  const id = managerId({ manager: o.manager, operation: 'Update', subresource: o.subresource });
  let self = managers.find((m) => managerId(m) === id);
  for (const m of managers) {
    if (m === self) continue;
    for (const p of changed) m.fields.delete(p);
    for (const p of removed) dropWithChildren(m.fields, p);
  }
  if (!self) {
    self = {
      manager: o.manager,
      operation: 'Update',
      subresource: o.subresource,
      apiVersion: o.apiVersion,
      fields: new Set(),
    };
    managers.push(self);
  }
  for (const p of removed) dropWithChildren(self.fields, p);
  for (const p of changed) self.fields.add(p);
  self.time = o.time;
  self.apiVersion = o.apiVersion;
  return encodeManagers(managers);
}

function dropWithChildren(set: Set<string>, path: string): void {
  set.delete(path);
  if (path.endsWith(`${SEP}.`)) {
    const item = path.slice(0, -2);
    for (const p of set) if (p.startsWith(item + SEP)) set.delete(p);
  }
}
