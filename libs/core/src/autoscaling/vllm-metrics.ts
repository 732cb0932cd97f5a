import { parsePrometheusText, PromSample } from './prometheus-text';

/** One leader's load as its vLLM `/metrics` shows it (structurally the library's `GroupSignal`). */
export interface VllmLoad {
  /** Requests in the running batch (`vllm:num_requests_running`). */
  running: number;
  /** Requests queued (`vllm:num_requests_waiting`). */
  waiting: number;
  /** KV-cache use 0..1 (`vllm:kv_cache_usage_perc`; older vLLM: `vllm:gpu_cache_usage_perc`). */
  kvCacheUsage: number;
  /** Token counters since the engine started, when exported. */
  promptTokensTotal?: number;
  generationTokensTotal?: number;
}

const RUNNING = 'vllm:num_requests_running';
const WAITING = 'vllm:num_requests_waiting';
const KV = ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'];
const PROMPT = 'vllm:prompt_tokens_total';
const GENERATION = 'vllm:generation_tokens_total';

/**
 * The load of one engine from its exposition text, or `null` when the gauges the autoscaler needs are
 * absent (not a vLLM endpoint, or a broken one): missing is not zero. Several label sets of one gauge
 * (one per engine core with data parallelism) are summed; KV-cache use is their mean.
 */
export function vllmLoadFromText(text: string): VllmLoad | null {
  return vllmLoad(parsePrometheusText(text));
}

export function vllmLoad(samples: PromSample[]): VllmLoad | null {
  const running = values(samples, RUNNING);
  const waiting = values(samples, WAITING);
  const kvName = KV.find((n) => values(samples, n).length > 0);
  const kv = kvName ? values(samples, kvName) : [];
  if (running.length === 0 || waiting.length === 0 || kv.length === 0) return null;
  const all = [...running, ...waiting, ...kv];
  if (all.some((v) => !Number.isFinite(v) || v < 0)) return null;
  const load: VllmLoad = {
    running: sum(running),
    waiting: sum(waiting),
    kvCacheUsage: Math.min(1, sum(kv) / kv.length),
  };
  const prompt = values(samples, PROMPT);
  const generation = values(samples, GENERATION);
  if (prompt.length) load.promptTokensTotal = sum(prompt);
  if (generation.length) load.generationTokensTotal = sum(generation);
  return load;
}

function values(samples: PromSample[], name: string): number[] {
  return samples.filter((s) => s.name === name).map((s) => s.value);
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
