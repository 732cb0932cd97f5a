// core/v1 Events of the agent's kubelet, posted best effort: a repeat of an event (same object,
// reason, message, source) within 10 minutes bumps the count of the first one, as client-go's
// recorder does; at most a few posts in flight, the rest queued up to a bound and then dropped.

import { randomBytes } from 'node:crypto';
import { nowRfc3339, type EventSource, type ObjectReference } from '@troupe/kubelet';
import { statusCodeOf, type KubeRest } from '@troupe/kube';

const REPEAT_WINDOW_MS = 10 * 60_000;
const MAX_IN_FLIGHT = 8;
const MAX_QUEUED = 1000;
const MAX_REMEMBERED = 4000;

export interface EventSpec {
  involved: ObjectReference;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  source: EventSource;
}

/** The Event object for a first occurrence (pure). */
export function eventObject(e: EventSpec, name: string, now: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: e.involved.namespace || 'default' },
    involvedObject: e.involved,
    reason: e.reason,
    message: e.message,
    source: e.source,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type: e.type,
    eventTime: null,
    reportingComponent: e.source.component,
    reportingInstance: e.source.host ?? '',
  };
}

export class EventPoster {
  private readonly seen = new Map<string, { name: string; count: number; at: number }>();
  private readonly queue: EventSpec[] = [];
  private inFlight = 0;
  private closed = false;
  dropped = 0;

  constructor(
    private readonly rest: KubeRest,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  post(e: EventSpec): void {
    if (this.closed) return;
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.queue.push(e);
    this.pump();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length && !this.closed) {
      const e = this.queue.shift() as EventSpec;
      this.inFlight++;
      this.send(e)
        .catch((err: unknown) => {
          this.dropped++;
          if (this.dropped % 50 === 1)
            this.log(
              `posting an event failed (${this.dropped} dropped so far): ${(err as Error)?.message ?? String(err)}`,
            );
        })
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }

  private async send(e: EventSpec): Promise<void> {
    const namespace = e.involved.namespace || 'default';
    const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    const key = [e.involved.uid ?? e.involved.name, e.type, e.reason, e.message, e.source.component].join(
      '\u0000',
    );
    const now = nowRfc3339();
    const prior = this.seen.get(key);
    if (prior && Date.now() - prior.at < REPEAT_WINDOW_MS) {
      prior.count++;
      prior.at = Date.now();
      try {
        await this.rest.request('PATCH', `${base}/${encodeURIComponent(prior.name)}`, {
          body: { count: prior.count, lastTimestamp: now },
          contentType: 'application/merge-patch+json',
        });
        return;
      } catch (err) {
        if (statusCodeOf(err) !== 404) throw err;
      }
    }
    const name = `${e.involved.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    await this.rest.request('POST', base, { body: eventObject(e, name, now) });
    this.seen.set(key, { name, count: 1, at: Date.now() });
    if (this.seen.size > MAX_REMEMBERED) {
      for (const k of [...this.seen.keys()].slice(0, MAX_REMEMBERED / 2)) this.seen.delete(k);
    }
  }
}
