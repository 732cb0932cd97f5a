import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError } from './api-client';
import { backoffDelay, withRetry } from './retry';
import { runAll, Semaphore } from './semaphore';

describe('semaphore and runAll', () => {
  it('never lets more than n holders in, first come first served', async () => {
    const sem = new Semaphore(2);
    let inside = 0;
    let max = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const release = await sem.acquire();
        order.push(i);
        inside++;
        max = Math.max(max, inside);
        await new Promise((r) => setTimeout(r, 5));
        inside--;
        release();
      }),
    );
    expect(max).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('runAll aborts the siblings of a failed task and throws the first error', async () => {
    const aborted: boolean[] = [];
    const err = await runAll(
      [
        async () => {
          throw new Error('first');
        },
        (signal) =>
          new Promise<void>((_, reject) =>
            signal.addEventListener('abort', () => {
              aborted.push(true);
              reject(new Error('aborted'));
            }),
          ),
      ],
      new AbortController().signal,
    ).catch((e: Error) => e);
    expect((err as Error).message).toBe('first');
    expect(aborted).toEqual([true]);
  });
});

describe('retry', () => {
  it('backs off exponentially', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 500))).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(backoffDelay(20, 500, 30_000)).toBe(30_000);
  });

  it('retries transient errors up to the limit, not the others', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new NetworkError('down', 'u');
        },
        { retries: 5, baseDelayMs: 1 },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(6);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new ApiError(400, 'x', 'bad');
        },
        { retries: 5, baseDelayMs: 1 },
      ),
    ).rejects.toThrow('bad');
    expect(calls).toBe(1);
    calls = 0;
    expect(
      await withRetry(
        async () => {
          if (++calls < 3) throw new ApiError(503, 'x', 'busy');
          return 'ok';
        },
        { retries: 5, baseDelayMs: 1 },
      ),
    ).toBe('ok');
  });
});
