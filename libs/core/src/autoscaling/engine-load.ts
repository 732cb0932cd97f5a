import { ENGINES, type EngineKind, type EngineMetricNames } from '@troupe/lws';
import { parsePrometheusText, PromSample } from './prometheus-text';

/** One leader's load as its engine's `/metrics` shows it (structurally the library's `GroupSignal`). */
export interface EngineLoad {
  /** Requests in the running batch (vLLM `vllm:num_requests_running`, SGLang `sglang:num_running_reqs`). */
  running: number;
  /** Requests queued (vLLM `vllm:num_requests_waiting`, SGLang `sglang:num_queue_reqs`). */
  waiting: number;
  /** KV-cache use 0..1 (vLLM `vllm:kv_cache_usage_perc`, SGLang `sglang:token_usage`). */
  kvCacheUsage: number;
  /** Token counters since the engine started, when exported. */
  promptTokensTotal?: number;
  generationTokensTotal?: number;
}

/** What an exposition shows of an engine's load; a metric that is absent stays undefined. */
export type EngineGauges = Partial<EngineLoad>;

/**
 * The values of one metric, one per engine replica. Without a replica label every series is a
 * replica of its own (vLLM: one per engine core with data parallelism); with one, the series sharing
 * its value are copies of one replica's value (SGLang: one per tensor / pipeline rank) and count as
 * their largest.
 */
function replicaValues(samples: PromSample[], name: string, names: EngineMetricNames): number[] {
  const series = samples.filter((s) => s.name === name);
  const label = names.replicaLabel;
  if (label === undefined) return series.map((s) => s.value);
  const byReplica = new Map<string, number>();
  for (const s of series) {
    const key = s.labels[label] ?? '';
    const seen = byReplica.get(key);
    byReplica.set(key, seen === undefined || Number.isNaN(s.value) ? s.value : Math.max(seen, s.value));
  }
  return [...byReplica.values()];
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * The load gauges of a `kind` engine in parsed samples, by the names of its descriptor (libs/lws
 * `engines/<kind>.ts`, the same map the gateway's picker reads): counts summed over replicas,
 * KV-cache use their mean. Absent metrics are left out.
 */
export function engineGauges(kind: EngineKind, samples: PromSample[]): EngineGauges {
  const names = ENGINES[kind].metrics;
  const out: EngineGauges = {};
  const running = replicaValues(samples, names.running, names);
  const waiting = replicaValues(samples, names.waiting, names);
  const kvName = names.kvCacheUsage.find((n) => samples.some((s) => s.name === n));
  const kv = kvName ? replicaValues(samples, kvName, names) : [];
  const prompt = replicaValues(samples, names.promptTokens, names);
  const generation = replicaValues(samples, names.generationTokens, names);
  if (running.length) out.running = sum(running);
  if (waiting.length) out.waiting = sum(waiting);
  if (kv.length) out.kvCacheUsage = Math.min(1, sum(kv) / kv.length);
  if (prompt.length) out.promptTokensTotal = sum(prompt);
  if (generation.length) out.generationTokensTotal = sum(generation);
  return out;
}

/**
 * The load of one engine from its exposition text, or `null` when the gauges the autoscaler needs are
 * absent (not that engine's endpoint, or a broken one) or not valid numbers: missing is not zero.
 */
export function engineLoadFromText(kind: EngineKind, text: string): EngineLoad | null {
  return engineLoad(kind, parsePrometheusText(text));
}

export function engineLoad(kind: EngineKind, samples: PromSample[]): EngineLoad | null {
  const g = engineGauges(kind, samples);
  const { running, waiting, kvCacheUsage } = g;
  if (running === undefined || waiting === undefined || kvCacheUsage === undefined) return null;
  if ([running, waiting, kvCacheUsage].some((v) => !Number.isFinite(v) || v < 0)) return null;
  const load: EngineLoad = { running, waiting, kvCacheUsage };
  if (g.promptTokensTotal !== undefined) load.promptTokensTotal = g.promptTokensTotal;
  if (g.generationTokensTotal !== undefined) load.generationTokensTotal = g.generationTokensTotal;
  return load;
}
