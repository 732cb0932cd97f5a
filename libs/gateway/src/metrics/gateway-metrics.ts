import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '@troupe/common';
import { Counter, Gauge, Histogram } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

/** Label children per service, cached: the hot path does not hash label sets per request. */
export interface ServiceMetrics {
  inflight: Gauge.Internal<string>;
  held: Gauge.Internal<string>;
  duration: Histogram.Internal<string>;
  ttft: Histogram.Internal<string>;
  promptTokens: Counter.Internal;
  completionTokens: Counter.Internal;
  aborts: Counter.Internal;
  requests(endpoint: string, status: number): Counter.Internal;
  retry(reason: string): Counter.Internal;
  groupInflight(group: string): Gauge.Internal<string>;
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

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'troupe_gateway_requests_total',
      help: 'Gateway requests by service (project/name), endpoint and response status.',
      labelNames: ['service', 'endpoint', 'status'],
      registers,
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
    });
    this.inflight = new Gauge({
      name: 'troupe_gateway_inflight_requests',
      help: 'Requests being proxied, by service.',
      labelNames: ['service'],
      registers,
    });
    this.groupInflight = new Gauge({
      name: 'troupe_gateway_group_inflight_requests',
      help: 'Requests being proxied, by service and group (leader pod).',
      labelNames: ['service', 'group'],
      registers,
    });
    this.held = new Gauge({
      name: 'troupe_gateway_held_requests',
      help: 'Requests held while their service scales from zero.',
      labelNames: ['service'],
      registers,
    });
    this.retries = new Counter({
      name: 'troupe_gateway_retries_total',
      help: 'Requests retried on another group, by reason (connect, status_502, status_503, socket).',
      labelNames: ['service', 'reason'],
      registers,
    });
    this.aborts = new Counter({
      name: 'troupe_gateway_client_aborts_total',
      help: 'Requests whose client went away before the response ended (upstream aborted).',
      labelNames: ['service'],
      registers,
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
    const requests = new Map<string, Counter.Internal>();
    const retries = new Map<string, Counter.Internal>();
    const groups = new Map<string, Gauge.Internal<string>>();
    m = {
      inflight: this.inflight.labels(label),
      held: this.held.labels(label),
      duration: this.duration.labels(label),
      ttft: this.ttft.labels(label),
      promptTokens: this.tokens.labels(label, 'prompt'),
      completionTokens: this.tokens.labels(label, 'completion'),
      aborts: this.aborts.labels(label),
      requests: (endpoint, status) => {
        const key = `${endpoint} ${status}`;
        let c = requests.get(key);
        if (!c) requests.set(key, (c = this.requests.labels(label, endpoint, String(status))));
        return c;
      },
      retry: (reason) => {
        let c = retries.get(reason);
        if (!c) retries.set(reason, (c = this.retries.labels(label, reason)));
        return c;
      },
      groupInflight: (group) => {
        let g = groups.get(group);
        if (!g) groups.set(group, (g = this.groupInflight.labels(label, group)));
        return g;
      },
    };
    this.children.set(label, m);
    return m;
  }
}
