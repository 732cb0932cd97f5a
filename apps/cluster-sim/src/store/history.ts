// Ring buffer of recent store events, for resuming watches by resourceVersion.

import type { StoreEvent } from './events';

export type HistoryResult = { events: StoreEvent[] } | { expired: true; oldest: number };

export class EventHistory {
  private readonly ring: (StoreEvent | undefined)[];
  private start = 0;
  private size = 0;
  /** Highest resourceVersion known to be evicted (0: nothing evicted yet). */
  private evictedUpTo = 0;

  constructor(capacity: number) {
    this.ring = new Array<StoreEvent | undefined>(Math.max(1, capacity));
  }

  push(event: StoreEvent): void {
    if (this.size < this.ring.length) {
      this.ring[(this.start + this.size) % this.ring.length] = event;
      this.size++;
      return;
    }
    const evicted = this.ring[this.start];
    if (evicted) this.evictedUpTo = evicted.rv;
    this.ring[this.start] = event;
    this.start = (this.start + 1) % this.ring.length;
  }

  private at(i: number): StoreEvent {
    return this.ring[(this.start + i) % this.ring.length] as StoreEvent;
  }

  /** Oldest resourceVersion from which a watch can resume without missing events. */
  oldestResumable(): number {
    return this.evictedUpTo;
  }

  /** Events with rv > `rv`, or `expired` when some of them were already evicted. */
  since(rv: number): HistoryResult {
    if (rv < this.evictedUpTo) return { expired: true, oldest: this.evictedUpTo };
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    const events: StoreEvent[] = [];
    for (let i = lo; i < this.size; i++) events.push(this.at(i));
    return { events };
  }

  get length(): number {
    return this.size;
  }
}
