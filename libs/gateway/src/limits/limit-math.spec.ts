import { describe, expect, it } from 'vitest';
import {
  bucketTtlMs,
  decide,
  drain,
  fill,
  isUnlimited,
  LimitState,
  msUntilLevel,
  refusalMessage,
  retryAfterSeconds,
} from './limit-math';

const T0 = 1_700_000_000_000;

describe('drain', () => {
  it.each([
    ['no bucket', null, T0, 60, 0],
    ['no time passed', { level: 5, at: T0 }, T0, 60, 5],
    ['1 s at 60/min drains 1', { level: 5, at: T0 }, T0 + 1_000, 60, 4],
    ['half a minute drains half the limit', { level: 10, at: T0 }, T0 + 30_000, 10, 5],
    ['never below zero', { level: 2, at: T0 }, T0 + 60_000, 60, 0],
    ['a clock going backwards drains nothing', { level: 3, at: T0 }, T0 - 5_000, 60, 3],
    ['unlimited: nothing kept', { level: 3, at: T0 }, T0, 0, 0],
  ])('%s', (_, bucket, now, perMinute, expected) => {
    expect(drain(bucket, now, perMinute)).toBeCloseTo(expected, 9);
  });
});

describe('fill', () => {
  it.each([
    ['empty bucket', null, T0, 60, 1, { level: 1, at: T0 }],
    ['drains before adding', { level: 10, at: T0 }, T0 + 6_000, 60, 100, { level: 104, at: T0 + 6_000 }],
  ])('%s', (_, bucket, now, perMinute, amount, expected) => {
    const b = fill(bucket, now, perMinute, amount);
    expect(b.at).toBe(expected.at);
    expect(b.level).toBeCloseTo(expected.level, 9);
  });
});

describe('msUntilLevel and bucketTtlMs', () => {
  it.each([
    [4, 3, 3, 20_000],
    [3, 3, 3, 0],
    [2, 3, 3, 0],
    [1_500, 1_000, 1_000, 30_000],
  ])('level %d to %d at %d/min: %d ms', (level, target, perMinute, expected) => {
    expect(msUntilLevel(level, target, perMinute)).toBeCloseTo(expected, 6);
  });
  it('keeps a bucket until it is empty, plus a second', () => {
    expect(bucketTtlMs(3, 3)).toBe(61_000);
    expect(bucketTtlMs(0, 3)).toBe(1_000);
  });
});

describe('decide', () => {
  const limits = { requestsPerMinute: 3, tokensPerMinute: 1_000, concurrentStreams: 2 };
  const idle: LimitState = { requests: 0, tokens: 0, streams: 0 };
  it.each<[string, LimitState, boolean, ReturnType<typeof decide>]>([
    ['idle key', idle, true, { ok: true }],
    ['the last request of the burst fits', { ...idle, requests: 2 }, false, { ok: true }],
    [
      'float rounding does not refuse a request that fits',
      { ...idle, requests: 2.0000000001 },
      false,
      { ok: true },
    ],
    [
      'a full request bucket refuses until one request drained (60/3 = 20 s)',
      { ...idle, requests: 3 },
      false,
      { ok: false, reason: 'requests_per_minute', retryAfterMs: 20_000 },
    ],
    [
      'half a request drained: 10 s left',
      { ...idle, requests: 2.5 },
      false,
      { ok: false, reason: 'requests_per_minute', retryAfterMs: 10_000 },
    ],
    ['tokens under the limit admit', { ...idle, tokens: 999 }, false, { ok: true }],
    [
      'tokens at the limit refuse (retry when some drained)',
      { ...idle, tokens: 1_000 },
      false,
      { ok: false, reason: 'tokens_per_minute', retryAfterMs: 0 },
    ],
    [
      'tokens overcharged by a long answer wait for the excess to drain',
      { ...idle, tokens: 1_500 },
      false,
      { ok: false, reason: 'tokens_per_minute', retryAfterMs: 30_000 },
    ],
    [
      'streams full refuse a stream',
      { ...idle, streams: 2 },
      true,
      { ok: false, reason: 'concurrent_streams', retryAfterMs: 1_000 },
    ],
    ['streams full do not refuse a non-streamed request', { ...idle, streams: 2 }, false, { ok: true }],
    [
      'several refusals: the one that frees up last is named',
      { requests: 3, tokens: 1_500, streams: 2 },
      true,
      { ok: false, reason: 'tokens_per_minute', retryAfterMs: 30_000 },
    ],
    [
      'a tie names the first in order',
      { requests: 3.5, tokens: 1_500, streams: 0 },
      true,
      { ok: false, reason: 'requests_per_minute', retryAfterMs: 30_000 },
    ],
  ])('%s', (_, state, stream, expected) => {
    const d = decide(state, limits, stream);
    if (expected.ok) expect(d).toEqual(expected);
    else {
      expect(d.ok).toBe(false);
      if (!d.ok) {
        expect(d.reason).toBe(expected.reason);
        expect(d.retryAfterMs).toBeCloseTo(expected.retryAfterMs, 3);
      }
    }
  });

  it('0 means unlimited for every limit', () => {
    const none = { requestsPerMinute: 0, tokensPerMinute: 0, concurrentStreams: 0 };
    expect(decide({ requests: 1e9, tokens: 1e12, streams: 1e6 }, none, true)).toEqual({ ok: true });
  });
});

describe('isUnlimited', () => {
  it.each([
    [{ requestsPerMinute: 0, tokensPerMinute: 0, concurrentStreams: 0 }, true, true],
    [{ requestsPerMinute: 0, tokensPerMinute: 0, concurrentStreams: 5 }, false, true],
    [{ requestsPerMinute: 0, tokensPerMinute: 0, concurrentStreams: 5 }, true, false],
    [{ requestsPerMinute: 1, tokensPerMinute: 0, concurrentStreams: 0 }, false, false],
    [{ requestsPerMinute: 0, tokensPerMinute: 1, concurrentStreams: 0 }, false, false],
  ])('%j stream=%s -> %s', (limits, stream, expected) => {
    expect(isUnlimited(limits, stream)).toBe(expected);
  });
});

describe('retryAfterSeconds', () => {
  it.each([
    [0, 1],
    [1, 1],
    [999, 1],
    [1_000, 1],
    [1_001, 2],
    [20_000, 20],
    [59_999.5, 60],
  ])('%d ms -> %d s', (ms, s) => {
    expect(retryAfterSeconds(ms)).toBe(s);
  });
});

describe('refusalMessage', () => {
  it('names the limit and the wait', () => {
    const limits = { requestsPerMinute: 3, tokensPerMinute: 1_000, concurrentStreams: 2 };
    expect(refusalMessage('requests_per_minute', limits, 20)).toBe(
      'Rate limit reached for requests per minute: this API key may use 3 requests per minute. Retry after 20 s.',
    );
    expect(refusalMessage('concurrent_streams', limits, 1)).toContain('2 concurrent streams');
  });
});
