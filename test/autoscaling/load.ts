import { setTimeout as sleep } from 'node:timers/promises';
import { pollUntil } from '../support/until';

export interface Endpoint {
  ip: string;
  port: number;
}

/**
 * A closed-loop load generator: keeps `concurrency` chat completions in flight, spread round-robin
 * over the endpoints `endpoints()` returns (refreshed by the caller, e.g. the service's ready leaders).
 * `setConcurrency` changes the load at once (extra workers finish their request and stop).
 */
export class LoadGenerator {
  private target = 0;
  private workers = 0;
  private next = 0;
  private stopped = false;
  readonly stats = { ok: 0, errors: 0, lastError: '' };

  constructor(
    private readonly endpoints: () => Endpoint[],
    private readonly request: { model: string; maxTokens: number },
  ) {}

  setConcurrency(n: number): void {
    this.target = n;
    while (this.workers < this.target) {
      this.workers++;
      void this.worker();
    }
  }

  get concurrency(): number {
    return this.target;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.target = 0;
    while (this.workers > 0) await sleep(20);
  }

  private async worker(): Promise<void> {
    try {
      while (!this.stopped && this.workers <= this.target) {
        const eps = this.endpoints();
        if (eps.length === 0) {
          await sleep(50);
          continue;
        }
        const ep = eps[this.next++ % eps.length];
        try {
          const res = await fetch(`http://${ep.ip}:${ep.port}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: this.request.model,
              messages: [{ role: 'user', content: 'load' }],
              max_tokens: this.request.maxTokens,
              ignore_eos: true,
            }),
            signal: AbortSignal.timeout(60_000),
          });
          await res.arrayBuffer();
          if (res.ok) this.stats.ok++;
          else {
            this.stats.errors++;
            this.stats.lastError = `HTTP ${res.status}`;
          }
        } catch (err) {
          this.stats.errors++;
          this.stats.lastError = err instanceof Error ? err.message : String(err);
          await sleep(50);
        }
      }
    } finally {
      this.workers--;
    }
  }
}

export const until = <T>(
  what: string,
  fn: () => Promise<T | undefined | false | null>,
  timeoutMs = 20_000,
  intervalMs = 100,
) => pollUntil(what, fn, timeoutMs, intervalMs);
