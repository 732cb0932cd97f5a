import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '@troupe/common';
import { Counter, Gauge, Histogram } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

/**
 * A number the hot path changes with a plain addition; the Prometheus metric reads it when scraped.
 * (prom-client hashes the label set on every `inc` of a labelled child, which at gateway rates was a
 * few percent of the process's CPU.)
 */
export class Cell {
  value = 0;
  /** For counters: what the Prometheus counter has been given so far. */
  flushed = 0;
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

/** Per service, created once: the hot path touches only cells and cached histogram children. */
export interface ServiceMetrics {
  inflight: Cell;
  held: Cell;
  duration: Histogram.Internal<string>;
  ttft: Histogram.Internal<string>;
  promptTokens: Cell;
  completionTokens: Cell;
  aborts: Cell;
  requests(endpoint: string, status: number): Cell;
  retry(reason: string): Cell;
  groupInflight(group: string): Cell;
  routing(strategy: string, reason: string): Cell;
  /** Prompt blocks of cache-aware picks, and those the chosen group was estimated to hold. */
  prefixQueryBlocks: Cell;
  prefixHitBlocks: Cell;
}

type Labels<L extends string> = Partial<Record<L, string>>;

/** Cells of one metric by label set; `collect` moves them into the Prometheus metric at scrape time. */
class Cells<L extends string> {
  private readonly cells = new Map<string, { labels: Labels<L>; cell: Cell }>();

  get(key: string, labels: () => Labels<L>): Cell {
    let e = this.cells.get(key);
    if (!e) this.cells.set(key, (e = { labels: labels(), cell: new Cell() }));
    return e.cell;
  }

  /** Gauges: the current value. */
  setInto(gauge: Gauge<L>): void {
    for (const { labels, cell } of this.cells.values()) gauge.set(labels, cell.value);
  }

  /** Counters: what was added since the last scrape. */
  addInto(counter: Counter<L>): void {
    for (const { labels, cell } of this.cells.values()) {
      const delta = cell.value - cell.flushed;
      if (delta > 0) counter.inc(labels, delta);
      cell.flushed = cell.value;
    }
  }
}

/** The gateway's Prometheus metrics (`troupe_gateway_*`), in the process registry. */
@Injectable()
export class GatewayMetrics {
  private readonly requests: Counter<'service' | 'endpoint' | 'status'>;
  private readonly duration: Histogram<'service'>;
  private readonly ttft: Histogram<'service'>;
  readonly overhead: Histogram<string>;
  private readonly tokens: Counter<'service' | 'kind'>;
  private readonly inflight: Gauge<'service'>;
  private readonly groupInflight: Gauge<'service' | 'group'>;
  private readonly held: Gauge<'service'>;
  private readonly retries: Counter<'service' | 'reason'>;
  private readonly aborts: Counter<'service'>;
  /** Errors answered before a service was resolved (auth, bad body, unknown model). */
  readonly rejected: Counter<'status'>;
  private readonly children = new Map<string, ServiceMetrics>();
  private readonly requestCells = new Cells<'service' | 'endpoint' | 'status'>();
  private readonly tokenCells = new Cells<'service' | 'kind'>();
  private readonly inflightCells = new Cells<'service'>();
  private readonly groupCells = new Cells<'service' | 'group'>();
  private readonly heldCells = new Cells<'service'>();
  private readonly retryCells = new Cells<'service' | 'reason'>();
  private readonly abortCells = new Cells<'service'>();
  private readonly routingCells = new Cells<'service' | 'strategy' | 'reason'>();
  private readonly prefixCells = new Cells<'service' | 'kind'>();
  private readonly routingDecisions: Counter<'service' | 'strategy' | 'reason'>;
  private readonly prefixBlocks: Counter<'service' | 'kind'>;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'troupe_gateway_requests_total',
      help: 'Gateway requests by service (project/name), endpoint and response status.',
      labelNames: ['service', 'endpoint', 'status'],
      registers,
      collect: () => this.requestCells.addInto(this.requests),
    });
    this.duration = new Histogram({
      name: 'troupe_gateway_request_duration_seconds',
      help: 'Gateway request duration, from receipt to the last byte sent.',
      labelNames: ['service'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.ttft = new Histogram({
      name: 'troupe_gateway_time_to_first_token_seconds',
      help: 'Streamed requests: time from receipt to the first chunk relayed to the client.',
      labelNames: ['service'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.overhead = new Histogram({
      name: 'troupe_gateway_overhead_seconds',
      help: "The gateway's own time before the request leaves for the engine (auth, parse, routing, limits).",
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: 'troupe_gateway_tokens_total',
      help: 'Tokens reported by engines, by service and kind (prompt, completion).',
      labelNames: ['service', 'kind'],
      registers,
      collect: () => this.tokenCells.addInto(this.tokens),
    });
    this.inflight = new Gauge({
      name: 'troupe_gateway_inflight_requests',
      help: 'Requests being proxied, by service.',
      labelNames: ['service'],
      registers,
      collect: () => this.inflightCells.setInto(this.inflight),
    });
    this.groupInflight = new Gauge({
      name: 'troupe_gateway_group_inflight_requests',
      help: 'Requests being proxied, by service and group (leader pod).',
      labelNames: ['service', 'group'],
      registers,
      collect: () => this.groupCells.setInto(this.groupInflight),
    });
    this.held = new Gauge({
      name: 'troupe_gateway_held_requests',
      help: 'Requests held while their service scales from zero.',
      labelNames: ['service'],
      registers,
      collect: () => this.heldCells.setInto(this.held),
    });
    this.retries = new Counter({
      name: 'troupe_gateway_retries_total',
      help: 'Requests retried on another group, by reason (connect, status_502, status_503, socket).',
      labelNames: ['service', 'reason'],
      registers,
      collect: () => this.retryCells.addInto(this.retries),
    });
    this.aborts = new Counter({
      name: 'troupe_gateway_client_aborts_total',
      help: 'Requests whose client went away before the response ended (upstream aborted).',
      labelNames: ['service'],
      registers,
      collect: () => this.abortCells.addInto(this.aborts),
    });
    this.routingDecisions = new Counter({
      name: 'troupe_gateway_routing_decisions_total',
      help: 'Groups picked, by service, routing strategy and reason (prefix_match, load_balance, new_prefix, least_outstanding, affinity).',
      labelNames: ['service', 'strategy', 'reason'],
      registers,
      collect: () => this.routingCells.addInto(this.routingDecisions),
    });
    this.prefixBlocks = new Counter({
      name: 'troupe_gateway_prefix_blocks_total',
      help: 'Cache-aware routing: prompt blocks routed (kind=query) and those the chosen group was estimated to hold (kind=hit); hit/query is the estimated prefix-cache hit rate.',
      labelNames: ['service', 'kind'],
      registers,
      collect: () => this.prefixCells.addInto(this.prefixBlocks),
    });
    this.rejected = new Counter({
      name: 'troupe_gateway_rejected_total',
      help: 'Requests refused before a service was resolved, by status.',
      labelNames: ['status'],
      registers,
    });
  }

  forService(label: string): ServiceMetrics {
    let m = this.children.get(label);
    if (m) return m;
    const service = label;
    m = {
      inflight: this.inflightCells.get(label, () => ({ service })),
      held: this.heldCells.get(label, () => ({ service })),
      duration: this.duration.labels(label),
      ttft: this.ttft.labels(label),
      promptTokens: this.tokenCells.get(`${label} prompt`, () => ({ service, kind: 'prompt' })),
      completionTokens: this.tokenCells.get(`${label} completion`, () => ({ service, kind: 'completion' })),
      aborts: this.abortCells.get(label, () => ({ service })),
      requests: (endpoint, status) =>
        this.requestCells.get(`${label} ${endpoint} ${status}`, () => ({
          service,
          endpoint,
          status: String(status),
        })),
      retry: (reason) => this.retryCells.get(`${label} ${reason}`, () => ({ service, reason })),
      groupInflight: (group) => this.groupCells.get(`${label} ${group}`, () => ({ service, group })),
      routing: (strategy, reason) =>
        this.routingCells.get(`${label} ${strategy} ${reason}`, () => ({ service, strategy, reason })),
      prefixQueryBlocks: this.prefixCells.get(`${label} query`, () => ({ service, kind: 'query' })),
      prefixHitBlocks: this.prefixCells.get(`${label} hit`, () => ({ service, kind: 'hit' })),
    };
    this.children.set(label, m);
    return m;
  }
}
