import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutageWarning } from './outage-warning';

describe('OutageWarning', () => {
  afterEach(() => vi.useRealTimers());

  it('warns once per outage: errors within 30 s of the previous one stay quiet', () => {
    vi.useFakeTimers();
    const warn = vi.fn();
    const w = new OutageWarning({ warn }, 'job queue connection');
    w.note(new Error('ECONNREFUSED'));
    vi.advanceTimersByTime(20_000);
    w.note(new Error('ECONNREFUSED'));
    vi.advanceTimersByTime(20_000);
    w.note(new Error('ECONNRESET')); // 20 s after the last: same outage
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('job queue connection: ECONNREFUSED');
    vi.advanceTimersByTime(31_000);
    w.note(new Error('ECONNRESET')); // quiet for longer than 30 s: a new outage
    expect(warn).toHaveBeenCalledTimes(2);
  });
});
