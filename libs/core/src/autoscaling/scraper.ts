import { vllmLoadFromText, VllmLoad } from './vllm-metrics';

export interface ScrapeTarget {
  ip: string;
  port: number;
}

/**
 * Reads one leader's vLLM `/metrics` within `timeoutMs`. Any failure (refused, timeout, non-200, not
 * vLLM's gauges) is `null`: the group is unseen this tick, which the decision treats as missing, never
 * as idle.
 */
export async function scrapeLeader(target: ScrapeTarget, timeoutMs: number): Promise<VllmLoad | null> {
  try {
    const res = await fetch(`http://${target.ip}:${target.port}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'text/plain' },
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      return null;
    }
    return vllmLoadFromText(await res.text());
  } catch {
    return null;
  }
}

/** Scrapes the leaders in parallel; results in the order of `targets`. */
export function scrapeLeaders(targets: ScrapeTarget[], timeoutMs: number): Promise<(VllmLoad | null)[]> {
  return Promise.all(targets.map((t) => scrapeLeader(t, timeoutMs)));
}
