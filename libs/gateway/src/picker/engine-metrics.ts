// Reading vLLM's Prometheus exposition for the numbers the picker uses. Pure.

export interface EngineLoad {
  waiting?: number;
  running?: number;
}

/**
 * `vllm:num_requests_waiting` and `vllm:num_requests_running` summed over their series (one per engine
 * / model label set). A metric that is absent stays undefined.
 */
export function parseEngineLoad(text: string): EngineLoad {
  const out: EngineLoad = {};
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue;
    const field = line.startsWith('vllm:num_requests_waiting')
      ? 'waiting'
      : line.startsWith('vllm:num_requests_running')
        ? 'running'
        : undefined;
    if (!field) continue;
    const name = field === 'waiting' ? 'vllm:num_requests_waiting' : 'vllm:num_requests_running';
    const next = line.charAt(name.length);
    if (next !== '{' && next !== ' ') continue; // another metric with this prefix
    const close = line.lastIndexOf('}');
    const rest = (close >= 0 ? line.slice(close + 1) : line.slice(name.length)).trim().split(/\s+/)[0];
    const value = Number(rest);
    if (!Number.isFinite(value)) continue;
    out[field] = (out[field] ?? 0) + value;
  }
  return out;
}
