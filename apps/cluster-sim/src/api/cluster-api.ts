// The API server's storage semantics, independent of HTTP: create / update / patch / apply / delete
// with admission (defaulting + validation), optimistic concurrency, generation, managedFields,
// subresources and garbage collection. Both the HTTP layer and the in-process controllers use it.

import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { ObjectStore } from '../store/object-store';
import type { KObject, ObjectMeta } from '../types/meta';
import { nowRfc3339 } from '../util/duration';
import { randomSuffix } from '../util/hash';
import { deepEqual, getPath, isObject } from '../util/json';
import { matchesFields, type FieldRequirement } from '../selectors/field-selector';
import {
  formatRequirements,
  fromLabelSelector,
  matchesLabels,
  type Requirement,
} from '../selectors/label-selector';
import type { LabelSelector } from '../types/workloads';
import {
  alreadyExists,
  ApiError,
  badRequest,
  fieldErr,
  invalid,
  notFound,
  staleConflict,
  unsupportedMediaType,
  type FieldError,
} from './errors';
import { validateObjectMeta } from './object-meta';
import { applyJsonPatch, JsonPatchError } from './patch/json-patch';
import { mergePatch } from './patch/merge-patch';
import { strategicMergePatch } from './patch/strategic-merge';
import { apiVersionOf, type AdmissionContext, type Registry, type ResourceDef } from './resources';
import { serverSideApply } from './ssa/apply';
import { recordUpdate } from './ssa/managed-fields';

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  force?: boolean;
  fieldValidation?: string;
  /** In-process controller write: no managedFields bookkeeping, no status stripping. */
  internal?: boolean;
  subresource?: 'status' | 'scale';
  /** Warnings for the response (Warning headers). */
  warnings?: string[];
}

export interface DeleteOptions {
  propagationPolicy?: string;
  /** Pods with graceful deletion on: 0 removes at once; default the pod's terminationGracePeriodSeconds. */
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListOptions {
  labels?: Requirement[];
  fields?: FieldRequirement[];
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

const SYSTEM_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

interface CommitOptions extends WriteOptions {
  presetManagedFields?: boolean;
}

export class ClusterApi {
  /**
   * Pods bound to a node and not terminal are deleted as a real API server does: marked with
   * `deletionTimestamp` / `deletionGracePeriodSeconds` and removed only when deleted again with grace
   * period 0 (by their kubelet, once stopped). Off by default: deletion is immediate.
   */
  gracefulPodDeletion = false;

  constructor(
    readonly store: ObjectStore,
    readonly registry: Registry,
  ) {}

  def(id: string): ResourceDef {
    return this.registry.byIdOrThrow(id);
  }

  // ---------------------------------------------------------------- reads

  tryGet(def: ResourceDef, namespace: string | undefined, name: string): KObject | undefined {
    return this.store.get(def.id, def.namespaced ? (namespace ?? '') : '', name);
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): KObject {
    const obj = this.tryGet(def, namespace, name);
    if (!obj) throw notFound(def, name);
    return obj;
  }

  list(def: ResourceDef, namespace: string | undefined, opts: ListOptions = {}): KObject[] {
    const all = this.store.list(def.id, def.namespaced ? namespace : undefined);
    const labels = opts.labels ?? [];
    const fields = opts.fields ?? [];
    if (labels.length === 0 && fields.length === 0) return all;
    return all.filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
  }

  // ---------------------------------------------------------------- helpers

  private now(): string {
    return nowRfc3339();
  }

  private checkTypeMeta(def: ResourceDef, body: KObject): void {
    const apiVersion = apiVersionOf(def);
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
      throw badRequest(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`,
      );
    }
    if (body.kind !== undefined && body.kind !== def.kind) {
      throw badRequest(
        `the kind in the data (${String(body.kind)}) does not match the expected kind (${def.kind})`,
      );
    }
  }

  private ensureNamespace(def: ResourceDef, namespace: string): void {
    if (!def.namespaced) return;
    if (!this.store.get('namespaces', '', namespace)) {
      throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    }
  }

  private admissionContext(op: 'CREATE' | 'UPDATE', opts: WriteOptions, old?: KObject): AdmissionContext {
    return {
      operation: op,
      old,
      subresource: opts.subresource,
      internal: opts.internal === true,
      fieldValidation: opts.fieldValidation ?? 'Ignore',
      warnings: opts.warnings ?? [],
    };
  }

  private admitAndValidate(def: ResourceDef, obj: KObject, ctx: AdmissionContext): KObject {
    const admitted = def.admit ? def.admit(obj, ctx) : obj;
    const errors: FieldError[] = [];
    if (ctx.operation === 'CREATE') errors.push(...validateObjectMeta(admitted, def.nameRule));
    else errors.push(...validateObjectMeta(admitted, 'any'));
    if (errors.length === 0 && def.validate) errors.push(...def.validate(admitted, ctx));
    if (errors.length) throw invalid(def.kind, def.group, admitted.metadata.name ?? '', errors);
    return admitted;
  }

  private manager(opts: WriteOptions): string {
    return opts.fieldManager || 'unknown';
  }

  // ---------------------------------------------------------------- create

  create(def: ResourceDef, namespace: string | undefined, body: unknown, opts: CommitOptions = {}): KObject {
    if (!isObject(body)) throw badRequest('the body of the request must be an object');
    const obj0 = body as KObject;
    this.checkTypeMeta(def, obj0);
    const meta: ObjectMeta = { ...(isObject(obj0.metadata) ? obj0.metadata : {}) };
    if (def.namespaced) {
      const ns = namespace ?? meta.namespace ?? 'default';
      if (meta.namespace && meta.namespace !== ns) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = ns;
      this.ensureNamespace(def, ns);
    } else delete meta.namespace;
    if (!meta.name && meta.generateName) {
      do meta.name = `${meta.generateName}${randomSuffix()}`;
      while (this.tryGet(def, meta.namespace, meta.name));
    }
    if (!meta.name) {
      throw invalid(def.kind, def.group, '', [
        fieldErr.required('metadata.name', 'name or generateName is required'),
      ]);
    }
    delete meta.uid;
    delete meta.resourceVersion;
    delete meta.creationTimestamp;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.generation;
    if (!opts.presetManagedFields) delete meta.managedFields;
    let obj: KObject = { ...obj0, apiVersion: apiVersionOf(def), kind: def.kind, metadata: meta };
    if (def.statusSubresource && !opts.internal && def.crd) delete obj.status;

    obj = this.admitAndValidate(def, obj, this.admissionContext('CREATE', opts));
    const metadata: ObjectMeta = { ...obj.metadata, uid: randomUUID(), creationTimestamp: this.now() };
    if (def.generation) metadata.generation = 1;
    obj = { ...obj, metadata };
    if (!opts.presetManagedFields && !opts.internal) {
      metadata.managedFields = recordUpdate(undefined, obj, {
        manager: this.manager(opts),
        apiVersion: apiVersionOf(def),
        time: this.now(),
        hasStatusSubresource: def.statusSubresource,
      });
    }
    if (this.tryGet(def, metadata.namespace, metadata.name as string))
      throw alreadyExists(def, metadata.name as string);
    if (opts.dryRun) return obj;
    return this.store.put(def.id, obj);
  }

  // ---------------------------------------------------------------- update

  /** Replaces an object (PUT). With subresource "status", only status is taken from the body. */
  update(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): KObject {
    if (!isObject(body)) throw badRequest('the body of the request must be an object');
    const old = this.get(def, namespace, name);
    const incoming = body as KObject;
    this.checkTypeMeta(def, incoming);
    const meta: ObjectMeta = isObject(incoming.metadata) ? incoming.metadata : {};
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && meta.namespace !== undefined && meta.namespace !== old.metadata.namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    this.checkResourceVersion(def, old, meta.resourceVersion, !opts.internal && def.crd);
    return this.commitUpdate(def, old, this.replaceContent(def, old, incoming, opts.subresource), opts);
  }

  private checkResourceVersion(
    def: ResourceDef,
    old: KObject,
    rv: string | undefined,
    required: boolean,
  ): void {
    if (rv) {
      if (rv !== old.metadata.resourceVersion) throw staleConflict(def, old.metadata.name as string);
    } else if (required) {
      throw invalid(def.kind, def.group, old.metadata.name as string, [
        fieldErr.invalid('metadata.resourceVersion', 0, 'must be specified for an update'),
      ]);
    }
  }

  /** The object to store from the old one and a full new body, protecting server-owned metadata. */
  private replaceContent(def: ResourceDef, old: KObject, incoming: KObject, subresource?: string): KObject {
    if (subresource === 'status') {
      const out: KObject = { ...old };
      if (incoming.status === undefined) delete out.status;
      else out.status = incoming.status;
      return out;
    }
    const inMeta: ObjectMeta = isObject(incoming.metadata) ? incoming.metadata : {};
    const metadata: ObjectMeta = {
      ...inMeta,
      name: old.metadata.name,
      namespace: old.metadata.namespace,
      uid: old.metadata.uid,
      creationTimestamp: old.metadata.creationTimestamp,
      generation: old.metadata.generation,
      managedFields: inMeta.managedFields ?? old.metadata.managedFields,
    };
    if (old.metadata.deletionTimestamp) {
      metadata.deletionTimestamp = old.metadata.deletionTimestamp;
      metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
    } else {
      delete metadata.deletionTimestamp;
      delete metadata.deletionGracePeriodSeconds;
    }
    if (!def.namespaced) delete metadata.namespace;
    const out: KObject = { ...incoming, apiVersion: apiVersionOf(def), kind: def.kind, metadata };
    if (def.statusSubresource) {
      if (old.status === undefined) delete out.status;
      else out.status = old.status;
    }
    return out;
  }

  private commitUpdate(def: ResourceDef, old: KObject, next: KObject, opts: CommitOptions): KObject {
    let obj = this.admitAndValidate(def, next, this.admissionContext('UPDATE', opts, old));
    const metadata: ObjectMeta = { ...obj.metadata, resourceVersion: old.metadata.resourceVersion };
    if (def.generation && specChanged(old, obj)) metadata.generation = (old.metadata.generation ?? 1) + 1;
    obj = { ...obj, metadata };
    if (!opts.presetManagedFields && !opts.internal) {
      metadata.managedFields = recordUpdate(old, obj, {
        manager: this.manager(opts),
        subresource: opts.subresource,
        apiVersion: apiVersionOf(def),
        time: this.now(),
        hasStatusSubresource: def.statusSubresource,
      });
    }
    if (sameContent(old, obj)) return old;
    if (opts.dryRun) return obj;
    return this.store.put(def.id, obj);
  }

  // ---------------------------------------------------------------- patch

  patch(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: string,
    opts: WriteOptions = {},
  ): KObject {
    const type = contentType.split(';')[0].trim().toLowerCase();
    if (type === PATCH_TYPES.apply) return this.apply(def, namespace, name, body, opts);
    const accepted: string[] = [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply];
    if (!def.crd) accepted.splice(2, 0, PATCH_TYPES.strategic);
    if (!accepted.includes(type)) throw unsupportedMediaType(contentType, accepted);
    const old = this.get(def, namespace, name);
    const patched = applyPatchBody(type, old, body, name);
    if (!isObject(patched)) throw badRequest('the patch produced something other than an object');
    const patchedObj = patched as KObject;
    const rv = isObject(patchedObj.metadata) ? patchedObj.metadata.resourceVersion : undefined;
    if (rv !== undefined && rv !== old.metadata.resourceVersion) throw staleConflict(def, name);
    return this.commitUpdate(def, old, this.replaceContent(def, old, patchedObj, opts.subresource), opts);
  }

  // ---------------------------------------------------------------- server-side apply

  apply(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    body: string,
    opts: WriteOptions = {},
  ): KObject {
    if (!opts.fieldManager) {
      throw new ApiError(
        422,
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [
            {
              reason: 'FieldValueRequired',
              message: 'Required value: is required for apply patch',
              field: 'fieldManager',
            },
          ],
        },
      );
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(body);
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    if (!isObject(parsed)) throw badRequest('the apply patch must be a YAML or JSON object');
    const applied = parsed as KObject;
    if (!applied.apiVersion) throw badRequest('apiVersion must be set in an apply patch');
    if (!applied.kind) throw badRequest('kind must be set in an apply patch');
    this.checkTypeMeta(def, applied);
    const meta: ObjectMeta = isObject(applied.metadata) ? { ...applied.metadata } : {};
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    meta.name = name;
    if (def.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = namespace;
    }
    let config: KObject = { ...applied, metadata: meta };
    if (opts.subresource === 'status')
      config = {
        apiVersion: applied.apiVersion,
        kind: applied.kind,
        metadata: { name },
        status: applied.status,
      };
    else if (def.statusSubresource) delete config.status;
    if (def.unknownFields) {
      const unknown = def.unknownFields(config);
      if (unknown.length) {
        throw badRequest(
          `failed to create typed patch object (${namespace ? `${namespace}/` : ''}${name}; ${apiVersionOf(def)}, Kind=${def.kind}): ${unknown
            .map((f) => `.${f}: field not declared in schema`)
            .join('\n')}`,
        );
      }
    }
    const live = this.tryGet(def, namespace, name);
    if (live) this.checkResourceVersion(def, live, meta.resourceVersion, false);
    const { object } = serverSideApply({
      live,
      applied: config,
      manager: opts.fieldManager,
      force: opts.force === true,
      subresource: opts.subresource,
      apiVersion: apiVersionOf(def),
      time: this.now(),
      hasStatusSubresource: def.statusSubresource,
    });
    if (!live) {
      if (opts.subresource) throw notFound(def, name);
      return this.create(def, namespace, object, { ...opts, presetManagedFields: true });
    }
    const next = this.replaceContent(def, live, object, opts.subresource);
    next.metadata = { ...next.metadata, managedFields: object.metadata.managedFields };
    return this.commitUpdate(def, live, next, { ...opts, presetManagedFields: true });
  }

  // ---------------------------------------------------------------- scale subresource

  getScale(def: ResourceDef, namespace: string | undefined, name: string): KObject {
    const obj = this.get(def, namespace, name);
    return toScale(def, obj);
  }

  updateScale(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): KObject {
    if (!def.scale) throw notFound(def, name);
    const obj = this.get(def, namespace, name);
    if (!isObject(body)) throw badRequest('the body of the request must be an object');
    const scale = body as KObject;
    const rv = isObject(scale.metadata) ? scale.metadata.resourceVersion : undefined;
    if (rv && rv !== obj.metadata.resourceVersion) throw staleConflict(def, name);
    const replicas = getPath(scale, 'spec.replicas');
    if (
      replicas !== undefined &&
      (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
    ) {
      throw invalid('Scale', 'autoscaling', name, [
        fieldErr.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'),
      ]);
    }
    const next = setPath(obj, def.scale.specReplicasPath, replicas ?? 0) as KObject;
    const stored = this.commitUpdate(def, obj, next, { ...opts, subresource: 'scale' });
    return toScale(def, stored);
  }

  patchScale(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: string,
    opts: WriteOptions = {},
  ): KObject {
    const type = contentType.split(';')[0].trim().toLowerCase();
    const accepted = [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic];
    if (!accepted.includes(type as (typeof accepted)[number]))
      throw unsupportedMediaType(contentType, accepted);
    const scale = this.getScale(def, namespace, name);
    const patched = applyPatchBody(type, scale, body, name);
    return this.updateScale(def, namespace, name, patched, opts);
  }

  // ---------------------------------------------------------------- delete + garbage collection

  delete(def: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KObject {
    const obj = this.get(def, namespace, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== obj.metadata.uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
        {
          name,
          kind: def.plural,
        },
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
        { name, kind: def.plural },
      );
    }
    if (def.id === 'namespaces' && SYSTEM_NAMESPACES.has(name)) {
      throw new ApiError(
        403,
        'Forbidden',
        `namespaces "${name}" is forbidden: this namespace may not be deleted`,
        { name, kind: 'namespaces' },
      );
    }
    if (opts.dryRun) return obj;
    if (def.id === 'pods' && this.gracefulPodDeletion) {
      const grace = podGracePeriodSeconds(obj, opts.gracePeriodSeconds);
      if (grace > 0) {
        if (obj.metadata.deletionTimestamp) return obj;
        const deletionTimestamp = nowRfc3339(new Date(Date.now() + grace * 1000));
        return this.store.put(def.id, {
          ...obj,
          metadata: { ...obj.metadata, deletionTimestamp, deletionGracePeriodSeconds: grace },
        });
      }
    }
    const gone = this.store.remove(def.id, obj.metadata.namespace ?? '', name) as KObject;
    if (def.id === 'namespaces') {
      for (const { resource, object } of this.store.allInNamespace(name)) {
        this.store.remove(resource, name, object.metadata.name as string);
      }
    }
    this.collectDependents(gone, opts.propagationPolicy ?? 'Background');
    return gone;
  }

  private collectDependents(owner: KObject, policy: string): void {
    const uid = owner.metadata.uid;
    if (!uid) return;
    for (const ref of this.store.dependents(uid)) {
      const dep = this.store.get(ref.resource, ref.namespace, ref.name);
      if (!dep) continue;
      const others = (dep.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid);
      const depDef = this.registry.byIdOrThrow(ref.resource);
      if (policy === 'Orphan' || others.some((o) => this.store.getByUid(o.uid))) {
        const metadata = { ...dep.metadata, ownerReferences: others.length ? others : undefined };
        this.store.put(ref.resource, { ...dep, metadata });
        continue;
      }
      this.delete(depDef, ref.namespace || undefined, ref.name, { propagationPolicy: 'Background' });
    }
  }

  deleteCollection(
    def: ResourceDef,
    namespace: string | undefined,
    opts: ListOptions & DeleteOptions = {},
  ): KObject[] {
    const out: KObject[] = [];
    for (const obj of this.list(def, namespace, opts)) {
      if (!this.tryGet(def, obj.metadata.namespace, obj.metadata.name as string)) continue;
      out.push(this.delete(def, obj.metadata.namespace, obj.metadata.name as string, opts));
    }
    return out;
  }
}

// -------------------------------------------------------------------- pure helpers

/**
 * The grace period a pod's deletion gets (upstream pod strategy CheckGracefulDelete): the one asked
 * for, else the pod's terminationGracePeriodSeconds, else 30; 0 for pods never scheduled or already
 * terminal (nothing runs them).
 */
export function podGracePeriodSeconds(pod: KObject, asked: number | undefined): number {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const phase = isObject(pod.status) ? pod.status.phase : undefined;
  if (!spec.nodeName || phase === 'Failed' || phase === 'Succeeded') return 0;
  if (asked !== undefined) return Math.max(0, asked);
  return typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
}

function applyPatchBody(type: string, current: KObject, body: string, name: string): unknown {
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch (e) {
    throw badRequest(`error decoding patch: ${(e as Error).message}`);
  }
  if (type === PATCH_TYPES.json) {
    try {
      return applyJsonPatch(current, patch);
    } catch (e) {
      if (e instanceof JsonPatchError) {
        throw new ApiError(
          422,
          'Invalid',
          `the server rejected our request due to an error in our request: ${e.message}`,
          {
            name,
            causes: [{ reason: 'FieldValueInvalid', message: e.message, field: 'patch' }],
          },
        );
      }
      throw e;
    }
  }
  if (!isObject(patch)) throw badRequest('a merge patch must be a JSON object');
  return type === PATCH_TYPES.strategic ? strategicMergePatch(current, patch) : mergePatch(current, patch);
}

function withoutVolatile(obj: KObject): KObject {
  const metadata = { ...obj.metadata };
  delete metadata.resourceVersion;
  delete metadata.managedFields;
  return { ...obj, metadata };
}

function sameContent(a: KObject, b: KObject): boolean {
  if (!deepEqual(withoutVolatile(a), withoutVolatile(b))) return false;
  const am = (a.metadata.managedFields ?? []).map((m) => ({ ...m, time: undefined }));
  const bm = (b.metadata.managedFields ?? []).map((m) => ({ ...m, time: undefined }));
  return deepEqual(am, bm);
}

/** True when anything but metadata and status changed. */
export function specChanged(a: KObject, b: KObject): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (k === 'metadata' || k === 'status' || k === 'apiVersion' || k === 'kind') continue;
    if (!deepEqual(a[k], b[k])) return true;
  }
  return false;
}

function setPath(obj: unknown, dotted: string, value: unknown): unknown {
  const parts = dotted.replace(/^\./, '').split('.');
  const set = (cur: unknown, i: number): unknown => {
    const base = isObject(cur) ? { ...cur } : {};
    base[parts[i]] = i === parts.length - 1 ? value : set(base[parts[i]], i + 1);
    return base;
  };
  return set(obj, 0);
}

function toScale(def: ResourceDef, obj: KObject): KObject {
  const s = def.scale;
  if (!s) throw notFound(def, obj.metadata.name as string);
  const status: Record<string, unknown> = {
    replicas: getPath(obj, s.statusReplicasPath.replace(/^\./, '')) ?? 0,
  };
  const specReplicas = getPath(obj, s.specReplicasPath.replace(/^\./, '')) ?? 0;
  if (s.labelSelectorPath) {
    const sel = getPath(obj, s.labelSelectorPath.replace(/^\./, ''));
    if (typeof sel === 'string') status.selector = sel;
    else if (isObject(sel)) status.selector = formatRequirements(fromLabelSelector(sel as LabelSelector));
  }
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    // autoscaling/v1 ScaleSpec.replicas is `omitempty`: a 0 is not written (status.replicas is).
    spec: specReplicas ? { replicas: specReplicas } : {},
    status,
  };
}
