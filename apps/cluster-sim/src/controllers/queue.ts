// A de-duplicating work queue: keys added while a batch is pending are reconciled once, on the next
// turn of the event loop. Failed keys are retried with a backoff.

export type Reconcile = (key: string) => void;

export class WorkQueue {
  private pending = new Set<string>();
  private scheduled = false;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly reconcile: Reconcile,
    private readonly onError: (key: string, err: unknown) => void = () => undefined,
  ) {}

  add(key: string): void {
    if (this.closed) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  addAfter(key: string, ms: number): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.add(key);
    }, ms);
    this.timers.add(t);
  }

  get length(): number {
    return this.pending.size;
  }

  private drain(): void {
    this.scheduled = false;
    if (this.closed) return;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      try {
        this.reconcile(key);
        this.failures.delete(key);
      } catch (err) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        this.onError(key, err);
        this.addAfter(key, Math.min(5000, 10 * 2 ** Math.min(n, 9)));
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }
}

export const splitKey = (key: string): [string, string] => {
  const i = key.indexOf('/');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
};
