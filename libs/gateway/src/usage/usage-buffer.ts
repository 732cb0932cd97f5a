/**
 * The recorder's memory: entries waiting to be written, oldest first, bounded. A batch taken for
 * writing still counts against the bound until it is written or put back, so a failing database
 * cannot make the buffer grow past `max`.
 */
export class UsageBuffer<T> {
  private items: T[] = [];
  private inFlight = 0;

  constructor(private readonly max: number) {}

  /** false when full: the entry is dropped (the caller counts it). */
  push(item: T): boolean {
    if (this.items.length + this.inFlight >= this.max) return false;
    this.items.push(item);
    return true;
  }

  /** Takes up to `n` of the oldest entries for writing. */
  take(n: number): T[] {
    const batch = this.items.splice(0, n);
    this.inFlight += batch.length;
    return batch;
  }

  /** The batch was written (or given up): it no longer counts. */
  done(batch: T[]): void {
    this.inFlight -= batch.length;
  }

  /** The batch could not be written: back to the front, in order, to be retried first. */
  putBack(batch: T[]): void {
    this.inFlight -= batch.length;
    this.items = batch.concat(this.items);
  }

  /** Entries waiting (not counting a batch being written). */
  get pending(): number {
    return this.items.length;
  }
}
