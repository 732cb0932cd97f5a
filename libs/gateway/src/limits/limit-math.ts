/**
 * The arithmetic of the gateway limits, pure so that it can be tested table-driven. The Lua scripts in
 * `limit-scripts.ts` do exactly this inside Redis (shared by every gateway process), and
 * `LocalLimiter` does it in memory when Redis is unreachable.
 *
 * Requests and tokens per minute are both leaky buckets: a bucket holds a `level` (requests or tokens)
 * measured at time `at` and drains continuously at the limit per minute, so a full bucket empties in
 * one minute. This is GCRA stated as a level rather than a theoretical arrival time:
 * - requests: a request is admitted when one more fits (level + 1 <= limit) and then adds 1. A key may
 *   burst `limit` requests at once, then gets one more every 60/limit seconds.
 * - tokens: their count is known only once the response ended, so they are charged afterwards
 *   (`chargeTokens`) and may overfill the bucket. A request is admitted while the level is below the
 *   limit; once over, new requests wait until the bucket drained back under the limit.
 * - concurrent streams: a count of open slots, each with a lease renewed while its stream is open.
 */

export const WINDOW_MS = 60_000;
/** What a refused stream is told to wait: streams end at unknown times, so a short retry. */
export const STREAM_RETRY_MS = 1_000;
/** Float slack when comparing levels, so 3 requests at a limit of 3 are not refused by rounding. */
export const EPSILON = 1e-9;

export interface Bucket {
  level: number;
  /** ms epoch of the measurement */
  at: number;
}

export type LimitReason = 'requests_per_minute' | 'tokens_per_minute' | 'concurrent_streams';
/** Reason codes as the Lua scripts return them (index + 1). */
export const REASONS: readonly LimitReason[] = [
  'requests_per_minute',
  'tokens_per_minute',
  'concurrent_streams',
];

/** The bucket's level at `now`, after draining at `perMinute` per minute since it was measured. */
export function drain(bucket: Bucket | null, now: number, perMinute: number): number {
  if (!bucket || perMinute <= 0) return 0;
  const elapsed = Math.max(0, now - bucket.at);
  return Math.max(0, bucket.level - (elapsed * perMinute) / WINDOW_MS);
}

/** Milliseconds until a bucket at `level` has drained to `target` (0 when it already has). */
export function msUntilLevel(level: number, target: number, perMinute: number): number {
  if (level <= target) return 0;
  return ((level - target) * WINDOW_MS) / perMinute;
}

/** How long a bucket must live in storage: until it has drained empty (plus a margin). */
export function bucketTtlMs(level: number, perMinute: number): number {
  return Math.ceil(msUntilLevel(level, 0, perMinute)) + 1_000;
}

/** The current state of one key, as read at `now` (levels already drained). */
export interface LimitState {
  requests: number;
  tokens: number;
  /** open stream slots (leases not expired) */
  streams: number;
}

/** Every field is a whole number; 0 = unlimited. */
export interface Limits {
  requestsPerMinute: number;
  tokensPerMinute: number;
  concurrentStreams: number;
}

export type Decision = { ok: true } | { ok: false; reason: LimitReason; retryAfterMs: number };

/**
 * Whether one more request may start. When several limits refuse, the answer names the one that
 * frees up last (the client must wait for all of them) — the first in REASONS order on a tie.
 */
export function decide(state: LimitState, limits: Limits, stream: boolean): Decision {
  const refusals: { reason: LimitReason; retryAfterMs: number }[] = [];
  const rpm = limits.requestsPerMinute;
  if (rpm > 0 && state.requests + 1 > rpm + EPSILON) {
    refusals.push({
      reason: 'requests_per_minute',
      retryAfterMs: msUntilLevel(state.requests + 1, rpm, rpm),
    });
  }
  const tpm = limits.tokensPerMinute;
  if (tpm > 0 && state.tokens >= tpm - EPSILON) {
    refusals.push({ reason: 'tokens_per_minute', retryAfterMs: msUntilLevel(state.tokens, tpm, tpm) });
  }
  if (stream && limits.concurrentStreams > 0 && state.streams >= limits.concurrentStreams) {
    refusals.push({ reason: 'concurrent_streams', retryAfterMs: STREAM_RETRY_MS });
  }
  if (refusals.length === 0) return { ok: true };
  const last = refusals.reduce((a, b) => (b.retryAfterMs > a.retryAfterMs ? b : a));
  return { ok: false, ...last };
}

/** Retry-After in whole seconds, never 0 (a client told 0 would retry at once and be refused again). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Whether a request can need Redis at all: with every limit unlimited there is nothing to count. */
export function isUnlimited(limits: Limits, stream: boolean): boolean {
  return (
    limits.requestsPerMinute === 0 &&
    limits.tokensPerMinute === 0 &&
    (!stream || limits.concurrentStreams === 0)
  );
}

const UNITS: Record<LimitReason, string> = {
  requests_per_minute: 'requests per minute',
  tokens_per_minute: 'tokens per minute',
  concurrent_streams: 'concurrent streams',
};

/** The message a refused client reads. */
export function refusalMessage(reason: LimitReason, limits: Limits, retryAfterS: number): string {
  const limit =
    reason === 'requests_per_minute'
      ? limits.requestsPerMinute
      : reason === 'tokens_per_minute'
        ? limits.tokensPerMinute
        : limits.concurrentStreams;
  return `Rate limit reached for ${UNITS[reason]}: this API key may use ${limit} ${UNITS[reason]}. Retry after ${retryAfterS} s.`;
}

/** The bucket after adding `amount` at `now` (a request admitted: 1; tokens charged: their count). */
export function fill(bucket: Bucket | null, now: number, perMinute: number, amount: number): Bucket {
  return { level: drain(bucket, now, perMinute) + amount, at: now };
}
