// Server-side apply: merge an applied configuration into the live object under one field manager,
// detect conflicts with other managers, remove fields the manager no longer applies.

import { ApiError, type StatusCause } from '../errors';
import { deepEqual, isObject } from '../../util/json';
import type { KObject } from '../../types/meta';
import {
  displayPath,
  isUnder,
  keyElement,
  leafPaths,
  listKeysFor,
  removePath,
  SEP,
  valueAt,
} from './fieldset';
import { decodeManagers, encodeManagers, managerId, trackedContent, type Manager } from './managed-fields';

export interface ApplyRequest {
  live: KObject | undefined;
  applied: KObject;
  manager: string;
  force: boolean;
  subresource?: string;
  apiVersion: string;
  time: string;
  hasStatusSubresource: boolean;
}

export interface ApplyResult {
  /** The merged object, with metadata.managedFields set. */
  object: KObject;
}

function describeManager(m: Manager): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update')
    s += m.time ? ` using ${m.apiVersion} at ${m.time}` : ` using ${m.apiVersion}`;
  return s;
}

function conflictError(conflicts: Map<Manager, string[]>): ApiError {
  const causes: StatusCause[] = [];
  const parts: string[] = [];
  let total = 0;
  for (const [m, paths] of conflicts) {
    total += paths.length;
    const shown = paths.map(displayPath).sort();
    for (const p of shown)
      causes.push({
        reason: 'FieldManagerConflict',
        message: `conflict with ${describeManager(m)}`,
        field: p,
      });
    parts.push(
      shown.length === 1
        ? `conflict with ${describeManager(m)}: ${shown[0]}`
        : `conflicts with ${describeManager(m)}:\n${shown.map((p) => `- ${p}`).join('\n')}`,
    );
  }
  const message = `Apply failed with ${total} conflict${total === 1 ? '' : 's'}: ${parts.join('\n')}`;
  return new ApiError(409, 'Conflict', message, { causes });
}

/** Merges the applied configuration into the live object (associative lists by key). */
export function mergeApplied(live: unknown, applied: unknown, field?: string): unknown {
  if (isObject(applied)) {
    const out: Record<string, unknown> = isObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === undefined) continue;
      out[k] = mergeApplied(out[k], v, k);
    }
    return out;
  }
  if (Array.isArray(applied)) {
    const keys = listKeysFor(field, applied);
    if (keys && Array.isArray(live) && (live.length === 0 || listKeysFor(field, live))) {
      const out: unknown[] = (live as Record<string, unknown>[]).slice();
      const liveKeys = out.map((l) => keyElement(l as Record<string, unknown>, keys));
      for (const item of applied as Record<string, unknown>[]) {
        const idx = liveKeys.indexOf(keyElement(item, keys));
        if (idx >= 0) out[idx] = mergeApplied(out[idx], item);
        else {
          out.push(mergeApplied(undefined, item));
          liveKeys.push(keyElement(item, keys));
        }
      }
      return out;
    }
  }
  return applied;
}

export function serverSideApply(req: ApplyRequest): ApplyResult {
  const managers = decodeManagers(req.live?.metadata.managedFields);
  const selfId = managerId({ manager: req.manager, operation: 'Apply', subresource: req.subresource });
  let self = managers.find((m) => managerId(m) === selfId);
  const appliedContent = trackedContent(req.applied, req.subresource, req.hasStatusSubresource);
  const appliedLeaves = leafPaths(appliedContent);
  const liveContent = trackedContent(req.live, req.subresource, req.hasStatusSubresource);

  // Conflicts: a field another manager owns, applied with a different value.
  const conflicts = new Map<Manager, string[]>();
  for (const m of managers) {
    if (m === self) continue;
    for (const p of m.fields) {
      if (!appliedLeaves.has(p) || p.endsWith(`${SEP}.`)) continue;
      if (deepEqual(valueAt(liveContent, p), appliedLeaves.get(p))) continue;
      const list = conflicts.get(m) ?? [];
      list.push(p);
      conflicts.set(m, list);
    }
  }
  if (conflicts.size > 0) {
    if (!req.force) throw conflictError(conflicts);
    for (const [m, paths] of conflicts) for (const p of paths) m.fields.delete(p);
  }

  // Fields this manager applied before and no longer applies: removed unless someone else owns them.
  let base: unknown = req.live ?? {};
  if (self) {
    const others = managers.filter((m) => m !== self);
    const stale = [...self.fields].filter((p) => !appliedLeaves.has(p));
    // Deepest first, so that list items go after their fields.
    stale.sort((a, b) => b.split(SEP).length - a.split(SEP).length);
    for (const p of stale) {
      const item = p.endsWith(`${SEP}.`) ? p.slice(0, -2) : undefined;
      const ownedElsewhere = others.some((m) =>
        item ? [...m.fields].some((q) => isUnder(q, item)) : m.fields.has(p),
      );
      if (!ownedElsewhere) base = removePath(base, p);
    }
  }

  const merged = mergeApplied(base, stripServerFields(req.applied)) as KObject;
  if (!self) {
    self = {
      manager: req.manager,
      operation: 'Apply',
      subresource: req.subresource,
      apiVersion: req.apiVersion,
      fields: new Set(),
    };
    managers.push(self);
  }
  self.fields = new Set(appliedLeaves.keys());
  self.time = req.time;
  self.apiVersion = req.apiVersion;
  // Applied values are shared ownership with managers that hold the same value.
  const metadata = { ...(isObject(merged.metadata) ? merged.metadata : {}) };
  metadata.managedFields = encodeManagers(managers);
  return { object: { ...merged, metadata } };
}

function stripServerFields(applied: KObject): KObject {
  const meta = { ...applied.metadata };
  delete meta.managedFields;
  delete meta.resourceVersion;
  delete meta.uid;
  delete meta.creationTimestamp;
  delete meta.generation;
  return { ...applied, metadata: meta };
}
