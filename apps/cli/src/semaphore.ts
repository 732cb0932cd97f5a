import { setMaxListeners } from 'node:events';

/** At most `permits` holders at once; waiters served first come, first served. */
export class Semaphore {
  private readonly waiters: (() => void)[] = [];

  constructor(private permits: number) {}

  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.permits > 0) {
      this.permits--;
    } else {
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiters.indexOf(grant);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
        };
        this.waiters.push(grant);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.permits++;
    };
  }
}

/**
 * Runs every task with a shared signal; the first failure aborts the others, and after all have
 * settled that first failure is thrown (the aborts it caused are not).
 */
export async function runAll(
  tasks: ((signal: AbortSignal) => Promise<void>)[],
  parent: AbortSignal,
): Promise<void> {
  const controller = new AbortController();
  // Every waiting task listens on it (parts queued for the semaphore): that is no leak.
  setMaxListeners(0, controller.signal);
  const onParentAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onParentAbort, { once: true });
  let first: { err: unknown } | undefined;
  try {
    await Promise.all(
      tasks.map((task) =>
        task(controller.signal).catch((err: unknown) => {
          if (!first) {
            first = { err };
            controller.abort(new DOMException('a sibling task failed', 'AbortError'));
          }
        }),
      ),
    );
  } finally {
    parent.removeEventListener('abort', onParentAbort);
  }
  if (first) throw first.err;
}
