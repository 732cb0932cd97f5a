import { describe, expect, it } from 'vitest';
import type { StoreEvent } from './events';
import { EventHistory } from './history';

const ev = (rv: number): StoreEvent => ({
  type: 'ADDED',
  resource: 'pods',
  object: { metadata: { name: `p${rv}` } },
  rv,
});

describe('EventHistory', () => {
  it('returns events after a resourceVersion', () => {
    const h = new EventHistory(10);
    for (let rv = 1; rv <= 5; rv++) h.push(ev(rv));
    expect(h.since(2)).toEqual({ events: [ev(3), ev(4), ev(5)] });
    expect(h.since(0)).toEqual({ events: [1, 2, 3, 4, 5].map(ev) });
    expect(h.since(5)).toEqual({ events: [] });
  });

  it('expires resourceVersions older than the buffer', () => {
    const h = new EventHistory(3);
    for (let rv = 1; rv <= 6; rv++) h.push(ev(rv * 2));
    // kept: 8, 10, 12; evicted up to 6
    expect(h.since(5)).toEqual({ expired: true, oldest: 6 });
    expect(h.since(6)).toEqual({ events: [ev(8), ev(10), ev(12)] });
    expect(h.since(9)).toEqual({ events: [ev(10), ev(12)] });
  });
});
