import { describe, expect, it } from 'vitest';
import { withTimeout } from './timeout';

describe('withTimeout', () => {
  it('passes the value through when in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 100)).resolves.toBe(7);
  });

  it('rejects after the deadline', async () => {
    await expect(withTimeout(new Promise(() => undefined), 20)).rejects.toThrow('timeout after 20 ms');
  });

  it('keeps the original rejection', async () => {
    await expect(withTimeout(Promise.reject(new Error('boom')), 100)).rejects.toThrow('boom');
  });
});
