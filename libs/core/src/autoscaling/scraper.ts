import type { EngineKind } from '@troupe/lws';
import { engineLoadFromText, EngineLoad } from './engine-load';

export interface ScrapeTarget {
  ip: string;
  port: number;
}

/**
 * Reads one leader's `/metrics` within `timeoutMs`, by the metric names of its engine. Any failure
 * (refused, timeout, non-200, not that engine's gauges) is `null`: the group is unseen this tick,
 * which the decision treats as missing, never as idle.
 */
export async function scrapeLeader(
  target: ScrapeTarget,
  timeoutMs: number,
  engine: EngineKind,
): Promise<EngineLoad | null> {
  try {
    const res = await fetch(`http://${target.ip}:${target.port}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'text/plain' },
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      return null;
    }
    return engineLoadFromText(engine, await res.text());
  } catch {
    return null;
  }
}

/** Scrapes the leaders of one service (one engine) in parallel; results in the order of `targets`. */
export function scrapeLeaders(
  targets: ScrapeTarget[],
  timeoutMs: number,
  engine: EngineKind,
): Promise<(EngineLoad | null)[]> {
  return Promise.all(targets.map((t) => scrapeLeader(t, timeoutMs, engine)));
}
