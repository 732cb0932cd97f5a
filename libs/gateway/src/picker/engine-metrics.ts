// The numbers the picker uses from an engine's Prometheus exposition, by the metric names of the
// engine's descriptor (libs/lws `engines/<kind>.ts`) — the same map and rules as the autoscaler's
// scrape (libs/core `engine-load.ts`). Pure.

import { engineGauges, parsePrometheusText } from '@troupe/core';
import type { EngineKind } from '@troupe/lws';

export interface EngineLoad {
  waiting?: number;
  running?: number;
}

/**
 * The queue and the running batch of a `kind` engine (vLLM `vllm:num_requests_waiting|running`,
 * SGLang `sglang:num_queue_reqs` / `sglang:num_running_reqs`), summed over its replicas. A metric
 * that is absent, or not a finite number, stays undefined.
 */
export function parseEngineLoad(text: string, kind: EngineKind): EngineLoad {
  const g = engineGauges(kind, parsePrometheusText(text));
  const out: EngineLoad = {};
  if (g.waiting !== undefined && Number.isFinite(g.waiting)) out.waiting = g.waiting;
  if (g.running !== undefined && Number.isFinite(g.running)) out.running = g.running;
  return out;
}
