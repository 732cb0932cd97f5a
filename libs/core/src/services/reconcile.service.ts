import { Injectable, Logger } from '@nestjs/common';
import { AppException } from '@troupe/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import {
  FIELD_MANAGERS,
  KubeClient,
  KubeWatchCache,
  fieldManagers,
  groupIndexOf,
  isPodReady,
  podHttpPort,
  podProblem,
} from '@troupe/kube';
import { LWS_LABELS } from '@troupe/lws';
import { expectedReplicas, ReplicasFacts, replicasToApply } from './replicas';
import { observe, PodFacts } from './service-phase';
import { ModelRepository, VersionRow } from '../models/model.repository';
import { ServiceCore, ServiceRepository } from './service.repository';
import { RECONCILER, S3_CREDENTIALS_SECRET, ServiceService } from './service.service';
import { ObservedState, ServicePhase } from './service.types';

/**
 * Makes the cluster match what users asked for, and writes back what the cluster shows.
 * `reconcile` is idempotent (server-side apply of the rendered LWS under one field manager), so a
 * retried or duplicated job converges; `refreshStatus` is fed by the watch cache, not by polling.
 */
@Injectable()
export class ReconcileService {
  private readonly logger = new Logger(ReconcileService.name);
  /** Namespaces whose prerequisites (LWS API served, namespace, S3 credentials Secret) were ensured recently. */
  private readonly prepared = new Map<string, number>();
  private static readonly PREPARED_TTL_MS = 60_000;
  /** Namespaces being prepared now: concurrent reconciles wait for the same work. */
  private readonly preparing = new Map<string, Promise<void>>();
  /** READY model versions are immutable: what rendering needs of them is read once. */
  private readonly versions = new Map<string, VersionRow>();
  private static readonly VERSION_CACHE_MAX = 1_000;
  /** Running status refreshes per service id; `again` asks for one more pass. */
  private readonly refreshing = new Map<string, { again: boolean; done: Promise<void> }>();
  /** How long after an apply an unchanged LWS is taken to still show the previous template. */
  private static readonly STALE_STATUS_MS = 30_000;
  /** How long a teardown waits for the LWS and its pods to be gone before the job is retried. */
  private static readonly TEARDOWN_WAIT_MS = 120_000;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly services: ServiceRepository,
    private readonly models: ModelRepository,
    private readonly serviceService: ServiceService,
    private readonly kube: KubeClient,
    private readonly cache: KubeWatchCache,
  ) {}

  async reconcile(serviceId: string): Promise<void> {
    const row = await this.services.findCoreById(serviceId);
    if (!row || row.phase === 'DELETED') return;
    try {
      if (row.deletedAt) return await this.teardown(row);
      const [version] = await Promise.all([
        this.version(row.modelVersionId),
        this.prepareNamespace(row.namespace),
      ]);
      const lws = this.serviceService.renderRow({ ...row, modelVersion: version });
      const facts = replicaFacts(row);
      const existing = this.cache.configured ? this.cache.getLws(row.namespace, row.name) : undefined;
      const replicas = replicasToApply(facts, Boolean(existing));
      if (replicas === undefined && existing && !autoscalerOwnsReplicas(existing)) {
        // Hand spec.replicas over before letting go of it: a field its last applier drops is reset.
        await this.kube.applyLwsReplicas(
          row.namespace,
          row.name,
          existing.spec?.replicas ?? expectedReplicas(facts),
          FIELD_MANAGERS.autoscaler,
        );
      }
      if (replicas !== undefined) lws.spec.replicas = replicas;
      const applied = await this.kube.applyLws(lws, RECONCILER, {
        force: true,
        omitReplicas: replicas === undefined,
      });
      const firstApply = row.appliedGeneration !== row.generation;
      // A new generation over a running service starts a rolling update when the LWS spec changed:
      // say so now rather than leave the previous READY showing until the controller's status
      // catches up (refreshStatus keeps it until the LWS changes after this apply).
      const specChanged = !existing || applied.metadata.generation !== existing.metadata.generation;
      const rollout = firstApply && specChanged && row.appliedGeneration !== null && row.phase !== 'PENDING';
      await this.services.updateCore(row.id, {
        appliedGeneration: row.generation,
        appliedResourceVersion: applied.metadata.resourceVersion ?? null,
        appliedAt: new Date(),
        lastError: null,
        ...(rollout ? { phase: 'UPDATING', phaseReason: `rolling out generation ${row.generation}` } : {}),
      });
      if (rollout && row.phase !== 'UPDATING') {
        await this.services.addEvent(
          row.id,
          'Normal',
          'UPDATING',
          `rolling out generation ${row.generation}`,
        );
      }
      if (firstApply) {
        await this.services.addEvent(
          row.id,
          'Normal',
          'Applied',
          `LeaderWorkerSet ${row.namespace}/${row.name} applied (generation ${row.generation})`,
        );
      }
      // The phase follows from what the cluster shows (the watch cache), written by the same
      // serialised refresh the watcher uses.
      await this.refreshStatus(row.id);
    } catch (err) {
      this.prepared.delete(row.namespace);
      const message = err instanceof Error ? err.message : String(err);
      if (message !== row.lastError) {
        await this.services.updateCore(row.id, { lastError: message });
        await this.services.addEvent(row.id, 'Warning', 'ReconcileFailed', message);
      }
      this.logger.warn(`reconcile ${row.namespace}/${row.name}: ${message}`);
      throw err; // BullMQ retries with backoff
    }
  }

  /**
   * What every service in a namespace needs before its LWS: the LWS API served, the namespace, and the
   * Secret with the object-storage credentials the weight-sync init containers read. Done once a
   * minute per namespace rather than per reconcile: 50 services created at once share it.
   */
  private async prepareNamespace(namespace: string): Promise<void> {
    const at = this.prepared.get(namespace);
    if (at !== undefined && Date.now() - at < ReconcileService.PREPARED_TTL_MS) return;
    let pending = this.preparing.get(namespace);
    if (!pending) {
      pending = this.doPrepareNamespace(namespace).finally(() => this.preparing.delete(namespace));
      this.preparing.set(namespace, pending);
    }
    await pending;
  }

  private async version(id: string): Promise<VersionRow> {
    const cached = this.versions.get(id);
    if (cached) return cached;
    const version = await this.models.findVersionById(id);
    if (!version) throw new Error(`model version ${id} no longer exists`);
    if (version.state === 'READY') {
      if (this.versions.size >= ReconcileService.VERSION_CACHE_MAX) {
        this.versions.delete(this.versions.keys().next().value!);
      }
      this.versions.set(id, version);
    }
    return version;
  }

  private async doPrepareNamespace(namespace: string): Promise<void> {
    await this.kube.assertLwsApi();
    await this.kube.ensureNamespace(namespace);
    if (this.config.s3) {
      await this.kube.applySecret(
        namespace,
        S3_CREDENTIALS_SECRET,
        { AWS_ACCESS_KEY_ID: this.config.s3.accessKey, AWS_SECRET_ACCESS_KEY: this.config.s3.secretKey },
        { 'app.kubernetes.io/managed-by': 'troupe' },
        RECONCILER,
      );
    }
    this.prepared.set(namespace, Date.now());
  }

  /**
   * Deletes the LWS with foreground propagation and marks the service DELETED once the watch shows
   * neither the LWS nor any of its pods: on a real cluster pods terminate gracefully and hold their
   * GPUs until their kubelet confirms, so DELETED means the capacity is free. A deletion that takes
   * longer than TEARDOWN_WAIT_MS fails this run of the job, which BullMQ retries.
   */
  private async teardown(row: ServiceCore): Promise<void> {
    await this.kube.deleteLws(row.namespace, row.name);
    if (this.cache.configured) {
      const deadline = Date.now() + ReconcileService.TEARDOWN_WAIT_MS;
      for (;;) {
        const pods = this.cache.podsOf(row.namespace, row.name).length;
        const lws = this.cache.getLws(row.namespace, row.name);
        if (!lws && pods === 0) break;
        if (Date.now() > deadline)
          throw new Error(
            `LeaderWorkerSet ${row.namespace}/${row.name} still ${lws ? 'exists' : 'gone'} with ${pods} pod(s) after ${ReconcileService.TEARDOWN_WAIT_MS / 1000} s`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await this.services.updateCore(row.id, {
      phase: 'DELETED',
      phaseReason: 'LeaderWorkerSet deleted',
      observed: undefined,
      lastError: null,
    });
    await this.services.addEvent(
      row.id,
      'Normal',
      'Deleted',
      `LeaderWorkerSet ${row.namespace}/${row.name} and its pods deleted`,
    );
  }

  /**
   * Recomputes observed state and phase from the watch cache and writes them when they changed (with
   * an event when the phase changes). One refresh per service at a time — two overlapping ones could
   * write an older view over a newer one —; a request that arrives while one runs makes it run once
   * more after, reading the row and the cache afresh.
   */
  async refreshStatus(serviceId: string): Promise<void> {
    if (!this.cache.configured) return;
    const inFlight = this.refreshing.get(serviceId);
    if (inFlight) {
      inFlight.again = true;
      return inFlight.done;
    }
    const entry: { again: boolean; done: Promise<void> } = { again: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          const row = await this.services.findCoreById(serviceId);
          if (row) await this.writeStatus(row);
        } while (entry.again);
      } finally {
        this.refreshing.delete(serviceId);
      }
    })();
    this.refreshing.set(serviceId, entry);
    return entry.done;
  }

  private async writeStatus(row: ServiceCore): Promise<void> {
    if (row.phase === 'DELETED' || row.deletedAt) return;
    const lws = this.cache.getLws(row.namespace, row.name);
    const pods: PodFacts[] = this.cache.podsOf(row.namespace, row.name).map((p) => {
      const problem = podProblem(p);
      return {
        name: p.metadata.name ?? '',
        groupIndex: groupIndexOf(p) ?? -1,
        workerIndex: Number(p.metadata.labels?.[LWS_LABELS.workerIndex] ?? -1),
        phase: p.status?.phase ?? 'Unknown',
        ready: isPodReady(p),
        ip: p.status?.podIP || undefined,
        port: podHttpPort(p),
        terminating: Boolean(p.metadata.deletionTimestamp),
        unschedulableMessage: problem?.startsWith('Unschedulable')
          ? problem.replace(/^Unschedulable: /, '')
          : undefined,
      };
    });
    const { phase, reason, observed } = observe(lws, pods, expectedReplicas(replicaFacts(row)), new Date());
    // A generation not yet applied, or applied but not yet seen by the LWS controller (the LWS has
    // not changed since that apply, for up to STALE_STATUS_MS), shows as updating: the LWS status
    // still describes the previous template.
    const notApplied = row.appliedGeneration !== row.generation;
    const statusStale =
      row.phase === 'UPDATING' &&
      lws !== undefined &&
      row.appliedResourceVersion !== null &&
      lws.metadata.resourceVersion === row.appliedResourceVersion &&
      row.appliedAt !== null &&
      Date.now() - row.appliedAt.getTime() < ReconcileService.STALE_STATUS_MS;
    const finalPhase: ServicePhase = (notApplied || statusStale) && phase === 'READY' ? 'UPDATING' : phase;
    const previous = row.observed as unknown as ObservedState | null;
    if (row.phase === finalPhase && row.phaseReason === reason && sameObserved(previous, observed)) return;
    await this.services.updateCore(row.id, {
      phase: finalPhase,
      phaseReason: reason,
      observed: observed as unknown as object,
    });
    if (row.phase !== finalPhase) {
      await this.services.addEvent(
        row.id,
        finalPhase === 'FAILED' || finalPhase === 'DEGRADED' ? 'Warning' : 'Normal',
        finalPhase,
        reason,
        {
          groups: observed.groups,
        },
      );
    }
  }

  async resync(): Promise<number> {
    const live = await this.services.listLive();
    for (const s of live)
      await this.serviceService
        .enqueueReconcile(s.id)
        .catch((err: AppException) => this.logger.warn(err.message));
    return live.length;
  }
}

function sameObserved(a: ObservedState | null, b: ObservedState): boolean {
  if (!a) return false;
  const strip = (o: ObservedState) => JSON.stringify({ ...o, observedAt: undefined });
  return strip(a) === strip(b);
}

function replicaFacts(row: ServiceCore): ReplicasFacts {
  return {
    spec: row.spec as unknown as ReplicasFacts['spec'],
    autoscaling: row.autoscaling as ReplicasFacts['autoscaling'],
    pinnedReplicas: row.pinnedReplicas,
    autoscalerState: row.autoscalerState as ReplicasFacts['autoscalerState'],
  };
}

function autoscalerOwnsReplicas(lws: { metadata: object }): boolean {
  return fieldManagers(lws, ['spec', 'replicas']).some((m) => m.manager === FIELD_MANAGERS.autoscaler);
}
