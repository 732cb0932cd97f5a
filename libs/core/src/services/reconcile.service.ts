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
import { ServiceRepository, ServiceRow } from './service.repository';
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

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly services: ServiceRepository,
    private readonly serviceService: ServiceService,
    private readonly kube: KubeClient,
    private readonly cache: KubeWatchCache,
  ) {}

  async reconcile(serviceId: string): Promise<void> {
    const row = await this.services.findById(serviceId);
    if (!row || row.phase === 'DELETED') return;
    try {
      if (row.deletedAt) return await this.teardown(row);
      await this.prepareNamespace(row.namespace);
      const lws = this.serviceService.renderRow(row);
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
      await this.kube.applyLws(lws, RECONCILER, { force: true, omitReplicas: replicas === undefined });
      const firstApply = row.appliedGeneration !== row.generation;
      // A new generation over a running service starts a rolling update: say so now rather than
      // leave the previous READY showing until the controller's status catches up.
      const rollout = firstApply && row.appliedGeneration !== null && row.phase !== 'PENDING';
      await this.services.update(row.id, {
        appliedGeneration: row.generation,
        lastError: null,
        ...(row.phase === 'PENDING' ? { phase: 'DEPLOYING', phaseReason: 'LeaderWorkerSet applied' } : {}),
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
      // Observed state follows from the watch cache (ServiceWatcher), not from here.
    } catch (err) {
      this.prepared.delete(row.namespace);
      const message = err instanceof Error ? err.message : String(err);
      if (message !== row.lastError) {
        await this.services.update(row.id, { lastError: message });
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

  private async teardown(row: ServiceRow): Promise<void> {
    await this.kube.deleteLws(row.namespace, row.name);
    await this.services.update(row.id, {
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

  /** Recomputes observed state and phase from the watch cache; records an event when the phase changes. */
  async refreshStatus(serviceId: string): Promise<void> {
    if (!this.cache.configured) return;
    const row = await this.services.findById(serviceId);
    if (!row || row.phase === 'DELETED' || row.deletedAt) return;
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
    // An applied generation not yet rolled out shows as updating even before the LWS condition flips.
    const finalPhase: ServicePhase =
      row.appliedGeneration !== row.generation && phase === 'READY' ? 'UPDATING' : phase;
    const previous = row.observed as unknown as ObservedState | null;
    if (row.phase === finalPhase && row.phaseReason === reason && sameObserved(previous, observed)) return;
    await this.services.update(row.id, {
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

function replicaFacts(row: ServiceRow): ReplicasFacts {
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
