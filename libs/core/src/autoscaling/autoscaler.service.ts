import { Injectable, Logger } from '@nestjs/common';
import {
  AutoscalerMemory,
  AutoscalingPolicy,
  decide,
  INITIAL_MEMORY,
  SignalSample,
} from '@troupe/autoscaler';
import { AppConfig, InjectConfig } from '@troupe/config';
import { FIELD_MANAGERS, KubeClient, KubeWatchCache } from '@troupe/kube';
import { RedisService } from '@troupe/queue';
import { ServiceRepository } from '../services/service.repository';
import { engineKindOf } from '../services/service.types';
import { AutoscalerMetrics } from './autoscaler.metrics';
import { AutoscalingRepository, ScalingRow } from './autoscaling.repository';
import { AutoscalerStateRecord } from './autoscaling.types';
import { GatewayLoad, readGatewayLoads } from './gateway-load';
import { groupsNow } from './scale-state';
import { scrapeLeaders } from './scraper';
import { buildSample, eventFor, historyWindowMs, pushSample, scaledClock } from './tick';

/** The lease the caller acts under: its fence, and a check made right before every actuation. */
export interface ActingLease {
  fence: number;
  /** True when the lease is still held with `fence` and enough of it remains to finish a write. */
  mayWrite(): Promise<boolean>;
}

export type TickOutcome =
  | 'skipped' // not autoscaled, no LWS yet, or a tick of it is already running
  | 'steady'
  | 'scaled'
  | 'refused' // lease lost, or the service was pinned/disabled meanwhile: nothing written
  | 'failed'; // Kubernetes refused the write

/** Services ticked at once (each tick scrapes its leaders in parallel). */
const PARALLEL_SERVICES = 16;

/**
 * One autoscaler tick per service: read the load (leaders' vLLM /metrics, the gateways' counts in
 * Redis), read the groups from the watch cache, let the pure `decide` choose, and when it asks for a
 * different number of groups, write it (SSA of `spec.replicas`, field manager `troupe-autoscaler`)
 * under the lease and record why. The loop that calls it (worker role) holds the lease.
 */
@Injectable()
export class AutoscalerService {
  private readonly logger = new Logger(AutoscalerService.name);
  /** Samples of the last policy window per service (in memory: a new actor starts a fresh window). */
  private readonly history = new Map<string, SignalSample[]>();
  /** The last state this process wrote per service, used instead of a stale row while its fence holds. */
  private readonly lastRecord = new Map<string, AutoscalerStateRecord>();
  /** Real ms of the last wake signal per service. */
  private readonly wokenAt = new Map<string, number>();
  private readonly running = new Map<string, Promise<TickOutcome>>();
  /** The last actuation error recorded per service (an unreachable API is one event, not one per tick). */
  private readonly lastFailure = new Map<string, string>();
  /** The autoscaler's clock (policy time); faster than real time only in tests and benchmarks. */
  readonly now: (realNow: number) => number;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly scaling: AutoscalingRepository,
    private readonly services: ServiceRepository,
    private readonly kube: KubeClient,
    private readonly cache: KubeWatchCache,
    private readonly redis: RedisService,
    private readonly metrics: AutoscalerMetrics,
  ) {
    this.now = scaledClock(config.autoscaler.clockRate);
  }

  /** A gateway holds requests for this service at zero groups: count one held request until it shows. */
  noteWake(serviceId: string, realNow = Date.now()): void {
    this.wokenAt.set(serviceId, realNow);
  }

  /** Ticks every autoscaled service once. */
  async tickAll(lease: ActingLease): Promise<Map<string, TickOutcome>> {
    const started = process.hrtime.bigint();
    const rows = await this.scaling.listAutoscaled();
    const outcomes = new Map<string, TickOutcome>();
    if (!(await this.cacheReady(rows))) return outcomes;
    const gateway = await readGatewayLoads(this.redis.client, Date.now());
    const live = new Set(rows.map((r) => r.id));
    for (const id of [...this.history.keys()]) if (!live.has(id)) this.forget(id);
    this.metrics.retain(new Set(rows.map((r) => `${r.namespace}/${r.name}`)));
    for (let i = 0; i < rows.length; i += PARALLEL_SERVICES) {
      await Promise.all(
        rows.slice(i, i + PARALLEL_SERVICES).map(async (row) => {
          if (this.running.has(row.id)) return outcomes.set(row.id, 'skipped'); // a wake tick just ran it
          outcomes.set(row.id, await this.guarded(row.id, () => this.tickService(row, lease, gateway)));
        }),
      );
    }
    this.metrics.tickSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return outcomes;
  }

  /** Ticks one service now (wake signal), after any tick of it already running. */
  async tickOne(serviceId: string, lease: ActingLease): Promise<TickOutcome> {
    await this.running.get(serviceId)?.catch(() => undefined);
    return this.guarded(serviceId, async () => {
      const row = await this.scaling.findById(serviceId);
      if (!row || !isAutoscaled(row)) return 'skipped';
      if (!(await this.cacheReady([row]))) return 'skipped';
      return this.tickService(row, lease, await readGatewayLoads(this.redis.client, Date.now()));
    });
  }

  /** Forgets in-memory state (the lease was lost: the next actor may have moved on). */
  reset(): void {
    this.history.clear();
    this.lastRecord.clear();
  }

  private forget(serviceId: string): void {
    this.history.delete(serviceId);
    this.lastRecord.delete(serviceId);
    this.wokenAt.delete(serviceId);
    this.lastFailure.delete(serviceId);
  }

  private async guarded(serviceId: string, fn: () => Promise<TickOutcome>): Promise<TickOutcome> {
    const p = fn().finally(() => {
      if (this.running.get(serviceId) === p) this.running.delete(serviceId);
    });
    this.running.set(serviceId, p);
    return p;
  }

  /** Watches the namespaces of these services; false until their first lists are in. */
  private async cacheReady(rows: ScalingRow[]): Promise<boolean> {
    if (!this.cache.configured) return false;
    const namespaces = [...new Set(rows.map((r) => r.namespace))];
    const missing = namespaces.filter((ns) => !this.cache.namespaces().includes(ns));
    if (missing.length) this.cache.start(missing);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(100, this.config.autoscaler.tickMs));
    });
    try {
      return await Promise.race([this.cache.synced().then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async tickService(
    row: ScalingRow,
    lease: ActingLease,
    gateway: Map<string, GatewayLoad> | null,
  ): Promise<TickOutcome> {
    const lws = this.cache.getLws(row.namespace, row.name);
    if (!lws) return 'skipped'; // the reconciler creates it, starting from the last decision
    const policy = row.autoscaling as unknown as AutoscalingPolicy;
    const labels = { namespace: row.namespace, service: row.name };
    const groups = groupsNow(lws, this.cache.podsOf(row.namespace, row.name));
    const readySet = new Set(groups.readyGroupIndexes);
    const leaders = this.cache
      .readyLeaders(row.namespace, row.name)
      .filter((l) => readySet.has(l.groupIndex));
    const loads = await scrapeLeaders(
      leaders,
      this.config.autoscaler.scrapeTimeoutMs,
      engineKindOf(row.spec),
    );
    const failures = loads.filter((l) => l === null).length;
    if (failures) this.metrics.scrapeFailures.inc(labels, failures);

    const realNow = Date.now();
    const now = this.now(realNow);
    const woke = this.wokenAt.get(row.id);
    const wakeWindowMs = Math.max(5_000, 3 * this.config.autoscaler.tickMs);
    const sample = buildSample({
      at: now,
      loads,
      gateway: gateway?.get(row.id),
      gatewayReadable: gateway !== null,
      wokenRecently: woke !== undefined && realNow - woke <= wakeWindowMs,
    });
    const history = pushSample(this.history.get(row.id) ?? [], sample, historyWindowMs(policy));
    this.history.set(row.id, history);

    const previous = this.previousRecord(row, lease.fence);
    const memory: AutoscalerMemory = previous?.memory ?? INITIAL_MEMORY;
    const state = {
      current: groups.current,
      ready: groups.ready,
      pending: groups.pending,
      unschedulable: groups.unschedulable,
    };
    const { decision, memory: nextMemory } = decide(policy, history, state, memory, now);
    this.metrics.observe(labels, {
      desired: decision.desired,
      current: groups.current,
      ready: groups.ready,
      reason: decision.reason,
    });
    const message =
      decision.reason === 'hold-capacity' && groups.unschedulableMessage
        ? `${decision.message} (scheduler: ${groups.unschedulableMessage})`
        : decision.message;
    const record: AutoscalerStateRecord = {
      desired: decision.desired,
      current: groups.current,
      reason: decision.reason,
      message,
      panic: decision.panic,
      inputs: decision.inputs,
      at: new Date(realNow).toISOString(),
      memory: nextMemory,
      fence: lease.fence,
    };
    const changes = decision.desired !== groups.current;

    // Fencing: confirm the lease right before writing, then stamp the fence on the stored state (the
    // database refuses it when a newer holder wrote, or the service was pinned or disabled meanwhile).
    if (changes && !(await lease.mayWrite())) {
      this.metrics.actuations.inc({ result: 'refused' });
      return 'refused';
    }
    if (!(await this.scaling.saveState(row.id, record, lease.fence))) {
      if (changes) this.metrics.actuations.inc({ result: 'refused' });
      this.forget(row.id);
      return 'refused';
    }
    this.lastRecord.set(row.id, record);
    if (changes) {
      try {
        await this.kube.applyLwsReplicas(
          row.namespace,
          row.name,
          decision.desired,
          FIELD_MANAGERS.autoscaler,
        );
        this.metrics.actuations.inc({ result: 'ok' });
        this.lastFailure.delete(row.id);
        if (woke !== undefined && decision.desired > 0) this.wokenAt.delete(row.id);
      } catch (err) {
        this.metrics.actuations.inc({ result: 'failed' });
        const why = err instanceof Error ? err.message : String(err);
        if (this.lastFailure.get(row.id) === why) return 'failed';
        this.lastFailure.set(row.id, why);
        this.logger.warn(`scale ${row.namespace}/${row.name} to ${decision.desired}: ${why}`);
        await this.services.addEvent(
          row.id,
          'Warning',
          'AutoscaleFailed',
          `autoscaler could not set ${decision.desired} groups: ${why}`,
          { desired: decision.desired, current: groups.current, reason: decision.reason },
        );
        // Keep the stored decision but not the reason: the next tick decides (and records) again.
        this.lastRecord.delete(row.id);
        return 'failed';
      }
    }
    const event = eventFor({ ...decision, message }, groups.current, previous?.reason);
    if (event) {
      await this.services.addEvent(row.id, event.type, event.reason, event.message, {
        source: 'autoscaler',
        desired: decision.desired,
        current: groups.current,
        reason: decision.reason,
        panic: decision.panic,
        inputs: decision.inputs,
        fence: lease.fence,
      });
    }
    return changes ? 'scaled' : 'steady';
  }

  /** What this process wrote last while holding this fence, else what the row holds. */
  private previousRecord(row: ScalingRow, fence: number): AutoscalerStateRecord | null {
    const mine = this.lastRecord.get(row.id);
    if (mine && mine.fence === fence) return mine;
    const stored = row.autoscalerState as unknown as AutoscalerStateRecord | null;
    return stored && typeof stored === 'object' && 'reason' in stored ? stored : null;
  }
}

function isAutoscaled(row: ScalingRow): boolean {
  const policy = row.autoscaling as { enabled?: boolean } | null;
  return (
    row.pinnedReplicas === null &&
    row.deletedAt === null &&
    row.phase !== 'DELETED' &&
    policy?.enabled === true
  );
}
