import { describe, expect, it } from 'vitest';
import { LocalLimiter } from './local-limiter';

const T0 = 1_700_000_000_000;
const limits = { requestsPerMinute: 2, tokensPerMinute: 100, concurrentStreams: 1 };

describe('LocalLimiter', () => {
  it('counts requests per key and refills over time', () => {
    const l = new LocalLimiter();
    expect(l.admit('k1', limits, false, T0).ok).toBe(true);
    expect(l.admit('k1', limits, false, T0).ok).toBe(true);
    expect(l.admit('k1', limits, false, T0)).toEqual({
      ok: false,
      reason: 'requests_per_minute',
      retryAfterMs: 30_000,
    });
    expect(l.admit('k2', limits, false, T0).ok).toBe(true);
    expect(l.admit('k1', limits, false, T0 + 30_000).ok).toBe(true);
  });

  it('refuses after tokens were charged over the limit, until they drained', () => {
    const l = new LocalLimiter();
    expect(l.admit('k', limits, false, T0).ok).toBe(true);
    l.charge('k', 100, 150, T0);
    expect(l.admit('k', limits, false, T0 + 1_000)).toMatchObject({ ok: false, reason: 'tokens_per_minute' });
    expect(l.admit('k', limits, false, T0 + 30_001).ok).toBe(true);
  });

  it('holds a stream slot until it is released', () => {
    const l = new LocalLimiter();
    expect(l.admit('k', limits, true, T0).ok).toBe(true);
    expect(l.admit('k', limits, true, T0 + 40_000)).toMatchObject({
      ok: false,
      reason: 'concurrent_streams',
    });
    l.releaseStream('k');
    expect(l.admit('k', limits, true, T0 + 40_000).ok).toBe(true);
  });

  it('forgets keys that drained and hold no stream', () => {
    const l = new LocalLimiter();
    l.admit('a', limits, false, T0);
    l.admit('b', limits, true, T0);
    l.prune(T0 + 60_000);
    expect(l.size).toBe(1);
    l.releaseStream('b');
    l.prune(T0 + 60_000);
    expect(l.size).toBe(0);
  });
});
