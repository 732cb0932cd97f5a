// Status writes and deletion confirmations of the agent's pods, one queue per pod: writes land in the
// order the kubelet made them; writes waiting together go out as one read-modify-write (their updates
// applied in turn to the pod as read); a 409 Conflict reads again and retries; an unreachable API
// server is retried with backoff until the pod is gone or the agent stops; writes for a pod that is
// gone, or is another pod by now (uid), are dropped.

import type { Pod, PodRef, PodStatus } from '@troupe/kubelet';
import { backoffDelay, statusCodeOf } from '@troupe/kube';

/** What the writer needs of the API (the agent's is HTTP; specs use a fake). */
export interface PodApi {
  /** The pod as stored, or undefined when it does not exist (404). */
  get(ref: PodRef): Promise<Pod | undefined>;
  /** PUT pods/status with the pod's resourceVersion (409 when stale). */
  putStatus(pod: Pod): Promise<void>;
  /** DELETE with gracePeriodSeconds 0 and a uid precondition. */
  delete(ref: PodRef): Promise<void>;
}

type StatusUpdate = (pod: Pod, status: PodStatus) => PodStatus;
type Op = { kind: 'status'; update: StatusUpdate } | { kind: 'delete' };

interface Queue {
  ref: PodRef;
  ops: Op[];
}

export interface PodWriterOptions {
  backoff?: { initialMs: number; maxMs: number };
  /** A write failure worth a line (conflicts and retries are not). */
  log?: (message: string) => void;
}

/** Applies the updates in order to the pod as read. */
export function composeStatus(pod: Pod, updates: StatusUpdate[]): PodStatus {
  let current = pod;
  for (const update of updates)
    current = { ...current, status: update(current, { ...(current.status ?? {}) }) };
  return current.status ?? {};
}

export class PodWriter {
  private readonly queues = new Map<string, Queue>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;
  private wake = new Set<() => void>();

  constructor(
    private readonly api: PodApi,
    private readonly o: PodWriterOptions = {},
  ) {}

  writeStatus(ref: PodRef, update: StatusUpdate): void {
    this.enqueue(ref, { kind: 'status', update });
  }

  confirmDeletion(ref: PodRef): void {
    this.enqueue(ref, { kind: 'delete' });
  }

  /** Pods with writes not done yet. */
  get pending(): number {
    return this.queues.size;
  }

  /** Resolves when every queued write is done (or dropped). */
  async flushed(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.wake) w();
    await Promise.all([...this.running]);
    this.queues.clear();
  }

  private enqueue(ref: PodRef, op: Op): void {
    if (this.closed) return;
    const existing = this.queues.get(ref.uid);
    if (existing) {
      existing.ops.push(op);
      return;
    }
    const queue: Queue = { ref, ops: [op] };
    this.queues.set(ref.uid, queue);
    const run = this.drain(queue).finally(() => {
      this.running.delete(run);
      if (this.queues.get(ref.uid) === queue) this.queues.delete(ref.uid);
    });
    this.running.add(run);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.add(done);
    });
  }

  private async drain(queue: Queue): Promise<void> {
    const { initialMs, maxMs } = this.o.backoff ?? { initialMs: 100, maxMs: 5000 };
    let failures = 0;
    while (!this.closed && queue.ops.length) {
      const head = queue.ops[0];
      const batch: StatusUpdate[] = [];
      if (head.kind === 'status') {
        for (const op of queue.ops) {
          if (op.kind !== 'status') break;
          batch.push(op.update);
        }
      }
      let outcome: 'done' | 'gone' | 'retry' | 'drop';
      try {
        outcome =
          head.kind === 'delete' ? await this.deleteOnce(queue.ref) : await this.writeOnce(queue.ref, batch);
      } catch (err) {
        const code = statusCodeOf(err);
        if (code === 409) outcome = 'retry';
        else if (code === 404) outcome = 'gone';
        else if (code !== undefined && code >= 400 && code < 500 && code !== 429) {
          this.o.log?.(
            `${head.kind === 'delete' ? 'deleting' : 'writing the status of'} pod ${queue.ref.namespace}/${queue.ref.name} failed (dropped): ${(err as Error).message}`,
          );
          outcome = 'drop';
        } else {
          if (failures === 0)
            this.o.log?.(
              `pod ${queue.ref.namespace}/${queue.ref.name}: API unreachable, retrying: ${(err as Error)?.message ?? String(err)}`,
            );
          await this.sleep(backoffDelay(failures++, initialMs, maxMs));
          continue;
        }
      }
      if (outcome === 'gone') return; // the pod is gone: nothing queued for it can land
      if (outcome === 'retry') {
        if (++failures > 3) await this.sleep(backoffDelay(failures - 3, initialMs, maxMs));
        continue;
      }
      failures = 0;
      queue.ops.splice(0, head.kind === 'delete' ? 1 : batch.length);
    }
  }

  private async writeOnce(ref: PodRef, batch: StatusUpdate[]): Promise<'done' | 'gone'> {
    const pod = await this.api.get(ref);
    if (!pod || pod.metadata.uid !== ref.uid) return 'gone';
    await this.api.putStatus({ ...pod, status: composeStatus(pod, batch) });
    return 'done';
  }

  private async deleteOnce(ref: PodRef): Promise<'done' | 'gone'> {
    try {
      await this.api.delete(ref);
    } catch (err) {
      // 409: the uid precondition failed, another pod has the name by now
      if (statusCodeOf(err) === 409) return 'gone';
      throw err;
    }
    return 'gone';
  }
}
