import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { AppException, ErrorCode, withTimeout } from '@troupe/common';
import { JobsOptions, Queue } from 'bullmq';
import { OutageWarning } from './outage-warning';
import { JobName, JobPayload, QueueName } from './queues';

export interface EnqueueOptions extends Pick<
  JobsOptions,
  'delay' | 'attempts' | 'priority' | 'removeOnComplete' | 'removeOnFail'
> {
  /** Derived from the entity (e.g. the service id), so that duplicates collapse into one job. */
  jobId: string;
}

/** How long an enqueue may take before the caller gets its 503 (Redis hanging rather than down). */
const ENQUEUE_TIMEOUT_MS = 5_000;

function queueUnavailable(detail: string, cause?: unknown): AppException {
  return new AppException(
    ErrorCode.DependencyUnavailable,
    `The job queue (Redis) is unavailable: ${detail}; retry shortly`,
    {
      retryAfterSeconds: 5,
      cause,
    },
  );
}

/** The ioredis status of a queue's connection ('ready' when commands go through). */
async function connectionStatus(q: Queue): Promise<string> {
  return (await q.backend.client).status;
}

/**
 * Typed producer for every queue. Enqueue failures (Redis down) surface as 503 at once, never as a
 * hang or silently: the queues share BullMQ's connection settings, whose commands wait for Redis
 * forever (what workers need), so an enqueue first checks that the connection is up.
 */
@Injectable()
export class QueueProducer {
  private readonly queues: Record<QueueName, Queue>;

  constructor(
    @InjectQueue(QueueName.Maintenance) maintenance: Queue,
    @InjectQueue(QueueName.ModelVerification) modelVerification: Queue,
    @InjectQueue(QueueName.Deploy) deploy: Queue,
  ) {
    this.queues = {
      [QueueName.Maintenance]: maintenance,
      [QueueName.ModelVerification]: modelVerification,
      [QueueName.Deploy]: deploy,
    };
    const warning = new OutageWarning(new Logger(QueueProducer.name), 'Redis connection of the job queues');
    for (const q of Object.values(this.queues)) q.on('error', warning.note);
  }

  async enqueue<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    name: N,
    payload: JobPayload<Q, N>,
    options: EnqueueOptions,
  ): Promise<void> {
    const q = this.queues[queue];
    const status = await connectionStatus(q);
    if (status !== 'ready') throw queueUnavailable(`not connected (${status})`);
    try {
      await withTimeout(
        q.add(name, payload, {
          attempts: 5,
          backoff: { type: 'exponential', delay: 1_000 },
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 24 * 3600 },
          ...options,
        }),
        ENQUEUE_TIMEOUT_MS,
      );
    } catch (err) {
      throw queueUnavailable((err as Error).message, err);
    }
  }

  /** Whether every queue's Redis connection is up (what an enqueue needs); for /readyz. */
  async connected(): Promise<boolean> {
    const statuses = await Promise.all(Object.values(this.queues).map(connectionStatus));
    return statuses.every((s) => s === 'ready');
  }

  /** Runs `name` on a fixed interval (idempotent: one scheduler per id however often it is called). */
  async schedule<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    schedulerId: string,
    everyMs: number,
    name: N,
    payload: JobPayload<Q, N>,
  ): Promise<void> {
    await this.queues[queue].upsertJobScheduler(schedulerId, { every: everyMs }, { name, data: payload });
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }
}
