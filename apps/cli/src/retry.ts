import { setTimeout as sleep } from 'node:timers/promises';
import { isTransient } from './api-client';

export interface RetryOptions {
  /** Retries after the first attempt (5: six attempts in all). */
  retries: number;
  /** First delay; each retry doubles it, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Which errors are worth another attempt (default: network errors, 408/429/5xx). */
  retryable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Delay before retry `attempt` (1-based): base * 2^(attempt-1), capped. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs = 30_000): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
}

/** Runs `fn` until it succeeds, a non-retryable error, or the retries are used up (then its last error). */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const retryable = opts.retryable ?? isTransient;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.retries || !retryable(err) || opts.signal?.aborted) throw err;
      const delay = backoffDelay(attempt + 1, opts.baseDelayMs, opts.maxDelayMs);
      opts.onRetry?.(err, attempt + 1, delay);
      await sleep(delay, undefined, { signal: opts.signal });
    }
  }
}
