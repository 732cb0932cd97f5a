import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '@troupe/common';
import { Counter, Gauge, Histogram } from 'prom-client';

type ServiceLabels = 'namespace' | 'service';

/** Prometheus metrics of the group autoscaler (registered in the process's registry). */
@Injectable()
export class AutoscalerMetrics {
  readonly desired: Gauge<ServiceLabels>;
  readonly current: Gauge<ServiceLabels>;
  readonly ready: Gauge<ServiceLabels>;
  readonly decisions: Counter<ServiceLabels | 'reason'>;
  readonly actuations: Counter<'result'>;
  readonly scrapeFailures: Counter<ServiceLabels>;
  readonly leader: Gauge;
  readonly tickSeconds: Histogram;
  private readonly seen = new Set<string>();

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.desired = new Gauge({
      name: 'troupe_autoscaler_desired_groups',
      help: 'Groups the autoscaler last decided a service should have.',
      labelNames: ['namespace', 'service'],
      registers,
    });
    this.current = new Gauge({
      name: 'troupe_autoscaler_current_groups',
      help: 'LWS spec.replicas of an autoscaled service when the autoscaler last looked.',
      labelNames: ['namespace', 'service'],
      registers,
    });
    this.ready = new Gauge({
      name: 'troupe_autoscaler_ready_groups',
      help: 'Groups of an autoscaled service with every pod ready.',
      labelNames: ['namespace', 'service'],
      registers,
    });
    this.decisions = new Counter({
      name: 'troupe_autoscaler_decisions_total',
      help: 'Autoscaler decisions by service and reason (one per service per tick).',
      labelNames: ['namespace', 'service', 'reason'],
      registers,
    });
    this.actuations = new Counter({
      name: 'troupe_autoscaler_actuations_total',
      help: 'Writes of spec.replicas by the autoscaler: ok, failed (Kubernetes error), refused (lease lost, service pinned or disabled meanwhile).',
      labelNames: ['result'],
      registers,
    });
    this.scrapeFailures = new Counter({
      name: 'troupe_autoscaler_scrape_failures_total',
      help: 'Leader /metrics scrapes that failed or timed out (the group counts as unseen, not idle).',
      labelNames: ['namespace', 'service'],
      registers,
    });
    this.leader = new Gauge({
      name: 'troupe_autoscaler_leader',
      help: '1 while this process holds the autoscaler lease, else 0.',
      registers,
    });
    this.tickSeconds = new Histogram({
      name: 'troupe_autoscaler_tick_seconds',
      help: 'Duration of one autoscaler tick over all services.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }

  observe(
    labels: { namespace: string; service: string },
    v: { desired: number; current: number; ready: number; reason: string },
  ): void {
    this.seen.add(`${labels.namespace}/${labels.service}`);
    this.desired.set(labels, v.desired);
    this.current.set(labels, v.current);
    this.ready.set(labels, v.ready);
    this.decisions.inc({ ...labels, reason: v.reason });
  }

  /** Drops the gauges of services no longer autoscaled (by this process). */
  retain(keys: Set<string>): void {
    for (const key of [...this.seen]) {
      if (keys.has(key)) continue;
      const [namespace, service] = key.split('/');
      this.desired.remove({ namespace, service });
      this.current.remove({ namespace, service });
      this.ready.remove({ namespace, service });
      this.seen.delete(key);
    }
  }
}
