import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '@troupe/common';
import { Counter, Gauge } from 'prom-client';

/** Prometheus metrics of usage accounting. */
@Injectable()
export class UsageMetrics {
  readonly written: Counter;
  readonly dropped: Counter<'cause'>;
  readonly flushFailures: Counter;
  readonly pending: Gauge;
  private pendingSource: () => number = () => 0;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.written = new Counter({
      name: 'troupe_usage_records_written_total',
      help: 'Usage records written to PostgreSQL.',
      registers,
    });
    this.dropped = new Counter({
      name: 'troupe_usage_records_dropped_total',
      help: 'Usage records lost: buffer full while PostgreSQL was unreachable, project deleted, invalid entry, or unwritten at shutdown.',
      labelNames: ['cause'],
      registers,
    });
    this.flushFailures = new Counter({
      name: 'troupe_usage_flush_failures_total',
      help: 'Batch writes of usage records that failed (the batch is kept and retried).',
      registers,
    });
    const source = () => this.pendingSource();
    this.pending = new Gauge({
      name: 'troupe_usage_records_pending',
      help: 'Usage records waiting in memory to be written.',
      registers,
      // Read when scraped, so that recording an entry costs nothing here.
      collect() {
        this.set(source());
      },
    });
    for (const cause of ['buffer_full', 'project_deleted', 'invalid', 'shutdown'])
      this.dropped.inc({ cause }, 0);
  }

  /** Where the pending gauge reads its value at scrape time. */
  watchPending(source: () => number): void {
    this.pendingSource = source;
  }
}
