// The platform's door to the Kubernetes API: typed operations on LeaderWorkerSets and the few core
// objects Troupe manages, every error mapped to an AppException. The only user of @kubernetes/client-node.

import {
  CoreV1Api,
  CoreV1Event,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  V1Node,
} from '@kubernetes/client-node';
import { AppException, ErrorCode } from '@troupe/common';
import type { KubeConfigSettings } from '@troupe/config';
import { LWS_GROUP, LWS_KIND, LWS_PLURAL, LWS_VERSION, LeaderWorkerSet } from '@troupe/lws';
import { isNotFound, toKubeException } from './kube-errors';
import { KubeRest, KubeTimeout, loadKubeConfig } from './kube-rest';
import type { ListPage, ResourceSource, WatchQuery } from './resource-cache';
import type { KubeEvent, LwsScale, NodeInfo, Pod, ServiceInput } from './types';

export const LWS_API_MISSING =
  'the LeaderWorkerSet API (leaderworkerset.x-k8s.io/v1, leaderworkersets) is not served by this cluster: ' +
  'install the LWS controller >= 0.7 (see deploy/README.md)';

export const GPU_RESOURCE = 'nvidia.com/gpu';

/** Field managers of the platform's writers (server-side apply ownership). */
export const FIELD_MANAGERS = {
  reconciler: 'troupe-reconciler',
  autoscaler: 'troupe-autoscaler',
} as const;

export interface ApplyOptions {
  /** Take over fields other managers own (SSA `force=true`). */
  force?: boolean;
  /** Validate and default on the server, persist nothing (`dryRun=All`). */
  dryRun?: boolean;
  /**
   * Leave `spec.replicas` out of the applied configuration, so that this manager stops owning it (the
   * reconciler, once the autoscaler or an admin scales through `/scale`). The current value is kept.
   */
  omitReplicas?: boolean;
}

/**
 * Typed Kubernetes operations. `KubeClient` is also the injection token; `ClusterKubeClient` talks to a
 * cluster, `DisabledKubeClient` answers DependencyUnavailable when Kubernetes is not configured.
 * Errors: 404 → NotFound (except where a method says otherwise), 409 → Conflict (the Status message,
 * e.g. an SSA field conflict), 400/422 → Unprocessable with `issues`, network errors / 5xx →
 * DependencyUnavailable "Kubernetes API unreachable: …" with `retryAfterSeconds`.
 */
export abstract class KubeClient {
  abstract readonly configured: boolean;
  /** The namespace from config (KUBE_NAMESPACE), for objects that name none. */
  abstract readonly namespace: string;

  /** Server-side apply of a LeaderWorkerSet under `fieldManager`; returns the object as stored. */
  abstract applyLws(
    lws: LeaderWorkerSet,
    fieldManager: string,
    options?: ApplyOptions,
  ): Promise<LeaderWorkerSet>;
  /** The LeaderWorkerSet, or null when it does not exist. */
  abstract getLws(namespace: string, name: string): Promise<LeaderWorkerSet | null>;
  abstract listLws(namespace: string, labelSelector?: string): Promise<LeaderWorkerSet[]>;
  /** Deletes with propagationPolicy Background (pods and StatefulSets go with it); false when absent. */
  abstract deleteLws(namespace: string, name: string): Promise<boolean>;
  /** Sets spec.replicas through the `/scale` subresource (merge patch) under `fieldManager`. */
  abstract scaleLws(
    namespace: string,
    name: string,
    replicas: number,
    fieldManager: string,
  ): Promise<LwsScale>;
  abstract getLwsScale(namespace: string, name: string): Promise<LwsScale>;
  /**
   * Server-side apply of `spec.replicas` alone under `fieldManager` (force): that manager then owns the
   * field, so another manager dropping it from its own applies keeps the value. The LWS must exist.
   */
  abstract applyLwsReplicas(
    namespace: string,
    name: string,
    replicas: number,
    fieldManager: string,
  ): Promise<LeaderWorkerSet>;

  /** Server-side apply of an Opaque Secret from string data. */
  abstract applySecret(
    namespace: string,
    name: string,
    stringData: Record<string, string>,
    labels: Record<string, string>,
    fieldManager: string,
  ): Promise<void>;
  abstract deleteSecret(namespace: string, name: string): Promise<boolean>;
  abstract applyService(service: ServiceInput, fieldManager: string): Promise<void>;
  abstract deleteService(namespace: string, name: string): Promise<boolean>;
  /** Creates the namespace when missing; true when it was created. */
  abstract ensureNamespace(namespace: string): Promise<boolean>;

  /** Pods matching a label selector (raw objects, as the watch cache holds them). */
  abstract listPods(namespace: string, labelSelector?: string): Promise<Pod[]>;
  /** Events of the namespace, those of `involvedObjectName` only when given, oldest first. */
  abstract listEvents(namespace: string, involvedObjectName?: string): Promise<KubeEvent[]>;
  abstract listNodes(): Promise<NodeInfo[]>;

  /**
   * Discovery: whether `leaderworkerset.x-k8s.io/v1` serves `leaderworkersets`. False when the API
   * server answers without it; DependencyUnavailable when the API server cannot be reached.
   */
  abstract lwsApiAvailable(): Promise<boolean>;
  /** Throws DependencyUnavailable with `LWS_API_MISSING` when the LWS API is not served. */
  async assertLwsApi(): Promise<void> {
    if (!(await this.lwsApiAvailable()))
      throw new AppException(ErrorCode.DependencyUnavailable, LWS_API_MISSING);
  }
}

// ---------------------------------------------------------------------------------------------------
// Narrowing of what client-node returns as `any`

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasName(v: unknown): v is { metadata: { name: string } } {
  return isRecord(v) && isRecord(v.metadata) && typeof v.metadata.name === 'string';
}

export function isLeaderWorkerSet(v: unknown): v is LeaderWorkerSet {
  return hasName(v) && isRecord((v as Record<string, unknown>).spec);
}

export function isPod(v: unknown): v is Pod {
  return hasName(v) && typeof (v as { metadata: Record<string, unknown> }).metadata.namespace === 'string';
}

function expectLws(v: unknown, what: string): LeaderWorkerSet {
  if (!isLeaderWorkerSet(v)) throw new Error(`unexpected answer to ${what}: not a LeaderWorkerSet`);
  return v;
}

function itemsOf(v: unknown): unknown[] {
  return isRecord(v) && Array.isArray(v.items) ? v.items : [];
}

function toScale(v: unknown): LwsScale {
  const spec = isRecord(v) && isRecord(v.spec) ? v.spec : {};
  const status = isRecord(v) && isRecord(v.status) ? v.status : {};
  return {
    replicas: typeof spec.replicas === 'number' ? spec.replicas : 0,
    currentReplicas: typeof status.replicas === 'number' ? status.replicas : 0,
    ...(typeof status.selector === 'string' ? { selector: status.selector } : {}),
  };
}

function iso(d: Date | string | undefined | null): string | undefined {
  if (!d) return undefined;
  return d instanceof Date ? d.toISOString() : d;
}

export function toKubeEvent(e: CoreV1Event): KubeEvent {
  const lastSeen = iso(e.lastTimestamp) ?? iso(e.eventTime) ?? iso(e.firstTimestamp);
  const firstSeen = iso(e.firstTimestamp) ?? iso(e.eventTime);
  return {
    namespace: e.metadata.namespace ?? '',
    name: e.metadata.name ?? '',
    type: e.type ?? 'Normal',
    reason: e.reason ?? '',
    message: e.message ?? '',
    involvedObject: {
      ...(e.involvedObject.kind ? { kind: e.involvedObject.kind } : {}),
      ...(e.involvedObject.name ? { name: e.involvedObject.name } : {}),
      ...(e.involvedObject.namespace ? { namespace: e.involvedObject.namespace } : {}),
      ...(e.involvedObject.uid ? { uid: e.involvedObject.uid } : {}),
    },
    count: e.count ?? 1,
    ...(lastSeen ? { lastSeen } : {}),
    ...(firstSeen ? { firstSeen } : {}),
    ...(e.source?.component || e.reportingComponent
      ? { source: e.source?.component ?? e.reportingComponent }
      : {}),
  };
}

/** A node quantity as a number: "8" → 8, "500m" → 0.5, "16Gi" → bytes; NaN when unparseable. */
export function parseQuantity(q: string | undefined): number {
  if (q === undefined) return 0;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const suffix: Record<string, number> = {
    '': 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
  };
  const f = suffix[m[2]];
  return f === undefined ? NaN : n * f;
}

/** A resource of a node as a number (capacity or allocatable), 0 when absent. */
export function nodeResource(
  node: NodeInfo,
  resource: string,
  of: 'capacity' | 'allocatable' = 'allocatable',
): number {
  const v = parseQuantity(node[of][resource]);
  return Number.isNaN(v) ? 0 : v;
}

export function toNodeInfo(n: V1Node): NodeInfo {
  const capacity: Record<string, string> = { ...(n.status?.capacity ?? {}) };
  const allocatable: Record<string, string> = { ...(n.status?.allocatable ?? {}) };
  const info: NodeInfo = {
    name: n.metadata?.name ?? '',
    labels: { ...(n.metadata?.labels ?? {}) },
    ready: (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    unschedulable: n.spec?.unschedulable === true,
    taints: (n.spec?.taints ?? []).map((t) => ({
      key: t.key,
      ...(t.value !== undefined ? { value: t.value } : {}),
      effect: t.effect,
    })),
    capacity,
    allocatable,
    gpus: { capacity: 0, allocatable: 0 },
  };
  info.gpus = {
    capacity: nodeResource(info, GPU_RESOURCE, 'capacity'),
    allocatable: nodeResource(info, GPU_RESOURCE, 'allocatable'),
  };
  return info;
}

/** A LeaderWorkerSet as applied: `spec.replicas` may be left out. */
export type LwsApplyBody = Omit<LeaderWorkerSet, 'spec' | 'status'> & {
  spec: Omit<LeaderWorkerSet['spec'], 'replicas'> & { replicas?: number };
};

/** What is applied of a LeaderWorkerSet: identity, labels, annotations and spec (never status or server fields). */
export function applyBody(lws: LeaderWorkerSet, namespace: string, omitReplicas = false): LwsApplyBody {
  const m = lws.metadata;
  const { replicas, ...rest } = lws.spec;
  return {
    apiVersion: `${LWS_GROUP}/${LWS_VERSION}`,
    kind: LWS_KIND,
    metadata: {
      name: m.name,
      namespace,
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    },
    spec: omitReplicas ? rest : { replicas, ...rest },
  };
}

// ---------------------------------------------------------------------------------------------------

export interface ClusterKubeClientOptions {
  /** Default namespace (KUBE_NAMESPACE). */
  namespace: string;
  /** Time allowed to one API call before it fails as unreachable. Default 30 s. */
  requestTimeoutMs?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KubeTimeout(ms)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The real client, built from a KubeConfig. */
export class ClusterKubeClient extends KubeClient {
  readonly configured = true;
  readonly namespace: string;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly timeoutMs: number;
  private readonly rest: KubeRest;

  constructor(
    readonly kubeConfig: KubeConfig,
    options: ClusterKubeClientOptions,
  ) {
    super();
    this.namespace = options.namespace;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.rest = new KubeRest(kubeConfig, this.timeoutMs);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  static fromSettings(settings: KubeConfigSettings, requestTimeoutMs?: number): ClusterKubeClient {
    return new ClusterKubeClient(loadKubeConfig(settings), {
      namespace: settings.namespace,
      requestTimeoutMs,
    });
  }

  /** The API server's URL (for messages). */
  get server(): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? '(no cluster)';
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(), this.timeoutMs);
    } catch (err) {
      throw toKubeException(err, what);
    }
  }

  /** Like `call`, but a 404 yields `onMissing`. */
  private async callOr<T, M>(what: string, onMissing: M, fn: () => Promise<T>): Promise<T | M> {
    try {
      return await this.call(what, fn);
    } catch (err) {
      if (isNotFound(err)) return onMissing;
      throw err;
    }
  }

  private lwsRef(namespace: string): { group: string; version: string; plural: string; namespace: string } {
    return { group: LWS_GROUP, version: LWS_VERSION, plural: LWS_PLURAL, namespace };
  }

  async applyLws(
    lws: LeaderWorkerSet,
    fieldManager: string,
    options: ApplyOptions = {},
  ): Promise<LeaderWorkerSet> {
    const namespace = lws.metadata.namespace ?? this.namespace;
    const name = lws.metadata.name;
    if (!name) throw new Error('applyLws: the LeaderWorkerSet has no metadata.name');
    const what = `apply leaderworkerset ${namespace}/${name}`;
    const res: unknown = await this.call(what, () =>
      this.custom.patchNamespacedCustomObject(
        {
          ...this.lwsRef(namespace),
          name,
          body: applyBody(lws, namespace, options.omitReplicas),
          fieldManager,
          force: options.force ?? false,
          ...(options.dryRun ? { dryRun: 'All' } : {}),
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
    return expectLws(res, what);
  }

  async getLws(namespace: string, name: string): Promise<LeaderWorkerSet | null> {
    const what = `get leaderworkerset ${namespace}/${name}`;
    const res: unknown = await this.callOr(what, null, () =>
      this.custom.getNamespacedCustomObject({ ...this.lwsRef(namespace), name }),
    );
    return res === null ? null : expectLws(res, what);
  }

  async listLws(namespace: string, labelSelector?: string): Promise<LeaderWorkerSet[]> {
    const what = `list leaderworkersets in ${namespace}`;
    const out: LeaderWorkerSet[] = [];
    let token: string | undefined;
    do {
      const res: unknown = await this.call(what, () =>
        this.custom.listNamespacedCustomObject({
          ...this.lwsRef(namespace),
          ...(labelSelector ? { labelSelector } : {}),
          limit: 500,
          ...(token ? { _continue: token } : {}),
        }),
      );
      out.push(...itemsOf(res).filter(isLeaderWorkerSet));
      const meta = isRecord(res) && isRecord(res.metadata) ? res.metadata : {};
      token = typeof meta.continue === 'string' && meta.continue ? meta.continue : undefined;
    } while (token);
    return out;
  }

  async deleteLws(namespace: string, name: string): Promise<boolean> {
    return this.callOr(`delete leaderworkerset ${namespace}/${name}`, false, async () => {
      await this.custom.deleteNamespacedCustomObject({
        ...this.lwsRef(namespace),
        name,
        // Foreground: the LWS stays (with a deletionTimestamp) until its StatefulSets and pods are
        // gone, so the watch tells when the group's GPUs are free.
        propagationPolicy: 'Foreground',
      });
      return true;
    });
  }

  async scaleLws(namespace: string, name: string, replicas: number, fieldManager: string): Promise<LwsScale> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new AppException(
        ErrorCode.Unprocessable,
        `replicas must be a whole number >= 0 (got ${replicas})`,
      );
    }
    const res: unknown = await this.call(`scale leaderworkerset ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObjectScale(
        { ...this.lwsRef(namespace), name, body: { spec: { replicas } }, fieldManager },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    return toScale(res);
  }

  async applyLwsReplicas(
    namespace: string,
    name: string,
    replicas: number,
    fieldManager: string,
  ): Promise<LeaderWorkerSet> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new AppException(
        ErrorCode.Unprocessable,
        `replicas must be a whole number >= 0 (got ${replicas})`,
      );
    }
    const what = `apply replicas of leaderworkerset ${namespace}/${name}`;
    const res: unknown = await this.call(what, () =>
      this.custom.patchNamespacedCustomObject(
        {
          ...this.lwsRef(namespace),
          name,
          body: {
            apiVersion: `${LWS_GROUP}/${LWS_VERSION}`,
            kind: LWS_KIND,
            metadata: { name, namespace },
            spec: { replicas },
          },
          fieldManager,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
    return expectLws(res, what);
  }

  async getLwsScale(namespace: string, name: string): Promise<LwsScale> {
    const res: unknown = await this.call(`get scale of leaderworkerset ${namespace}/${name}`, () =>
      this.custom.getNamespacedCustomObjectScale({ ...this.lwsRef(namespace), name }),
    );
    return toScale(res);
  }

  async applySecret(
    namespace: string,
    name: string,
    stringData: Record<string, string>,
    labels: Record<string, string>,
    fieldManager: string,
  ): Promise<void> {
    await this.call(`apply secret ${namespace}/${name}`, () =>
      this.core.patchNamespacedSecret(
        {
          namespace,
          name,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name, namespace, labels },
            type: 'Opaque',
            stringData,
          },
          fieldManager,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
  }

  async deleteSecret(namespace: string, name: string): Promise<boolean> {
    return this.callOr(`delete secret ${namespace}/${name}`, false, async () => {
      await this.core.deleteNamespacedSecret({ namespace, name });
      return true;
    });
  }

  async applyService(service: ServiceInput, fieldManager: string): Promise<void> {
    const { namespace, name } = service;
    await this.call(`apply service ${namespace}/${name}`, () =>
      this.core.patchNamespacedService(
        {
          namespace,
          name,
          body: {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name, namespace, ...(service.labels ? { labels: service.labels } : {}) },
            spec: {
              selector: service.selector,
              ports: service.ports.map((p) => ({
                name: p.name,
                port: p.port,
                protocol: p.protocol ?? 'TCP',
                ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
              })),
              ...(service.clusterIP ? { clusterIP: service.clusterIP } : {}),
              ...(service.type ? { type: service.type } : {}),
            },
          },
          fieldManager,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
  }

  async deleteService(namespace: string, name: string): Promise<boolean> {
    return this.callOr(`delete service ${namespace}/${name}`, false, async () => {
      await this.core.deleteNamespacedService({ namespace, name });
      return true;
    });
  }

  async ensureNamespace(namespace: string): Promise<boolean> {
    const exists = await this.callOr(`get namespace ${namespace}`, false, async () => {
      await this.core.readNamespace({ name: namespace });
      return true;
    });
    if (exists) return false;
    try {
      await this.call(`create namespace ${namespace}`, () =>
        this.core.createNamespace({
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        }),
      );
      return true;
    } catch (err) {
      // Created by someone else in between.
      if (err instanceof AppException && err.code === ErrorCode.Conflict) return false;
      throw err;
    }
  }

  async listPods(namespace: string, labelSelector?: string): Promise<Pod[]> {
    const out: Pod[] = [];
    let token: string | undefined;
    do {
      const page = await this.listRaw(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, {
        ...(labelSelector ? { labelSelector } : {}),
        limit: 500,
        ...(token ? { continue: token } : {}),
      });
      out.push(...page.items.filter(isPod));
      token = page.continueToken;
    } while (token);
    return out;
  }

  async listEvents(namespace: string, involvedObjectName?: string): Promise<KubeEvent[]> {
    const res = await this.call(`list events in ${namespace}`, () =>
      this.core.listNamespacedEvent({
        namespace,
        ...(involvedObjectName ? { fieldSelector: `involvedObject.name=${involvedObjectName}` } : {}),
      }),
    );
    return res.items
      .map(toKubeEvent)
      .sort((a, b) => (a.lastSeen ?? '').localeCompare(b.lastSeen ?? '') || a.name.localeCompare(b.name));
  }

  async listNodes(): Promise<NodeInfo[]> {
    const res = await this.call('list nodes', () => this.core.listNode({}));
    return res.items.map(toNodeInfo);
  }

  async lwsApiAvailable(): Promise<boolean> {
    const res = await this.callOr('discover the LeaderWorkerSet API', null, () =>
      this.rest.request('GET', `/apis/${LWS_GROUP}/${LWS_VERSION}`),
    );
    if (!isRecord(res) || !Array.isArray(res.resources)) return false;
    return res.resources.some((r) => isRecord(r) && r.name === LWS_PLURAL);
  }

  // -------------------------------------------------------------------------------------------------
  // Raw access for the watch cache: JSON as the API sends it (client-node's typed APIs turn timestamps
  // into Dates, its Watch does not; the cache holds one shape).

  /** A source of lists and watches for `ResourceCache`. */
  resourceSource(): ResourceSource {
    return {
      list: (path, query) => this.listRaw(path, query),
      watch: (path, query, onEvent, onDone) => this.rest.watch(path, query, onEvent, onDone),
    };
  }

  /** One page of a list. Errors are AppExceptions (see `call`). */
  async listRaw(path: string, query: WatchQuery): Promise<ListPage> {
    return this.call(`list ${path}`, () => this.rest.list(path, query));
  }
}
