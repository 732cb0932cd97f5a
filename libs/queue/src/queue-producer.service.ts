import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { AppException, ErrorCode, withTimeout } from '@troupe/common';
import { JobsOptions, Queue } from 'bullmq';
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

/**
 * Typed producer for every queue. Enqueue failures (Redis down) surface as 503 at once, never as a
 * hang or silently: the queues share BullMQ's connection settings, whose commands wait for Redis
 * forever (what workers need), so an enqueue first checks that the connection is up.
 */
@Injectable()
export class QueueProducer {
  private readonly logger = new Logger(QueueProducer.name);
  private readonly queues: Record<QueueName, Queue>;
  private outage = false;

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
    // One warning per outage instead of an unhandled error per reconnect attempt.
    for (const q of Object.values(this.queues)) {
      q.on('error', (err) => {
        if (this.outage) return;
        this.outage = true;
        this.logger.warn(`Redis connection of the job queues: ${err.message}`);
      });
    }
  }

  async enqueue<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    name: N,
    payload: JobPayload<Q, N>,
    options: EnqueueOptions,
  ): Promise<void> {
    const q = this.queues[queue];
    const client = await q.backend.client;
    if (client.status !== 'ready') throw queueUnavailable(`not connected (${client.status})`);
    this.outage = false;
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
    const clients = await Promise.all(Object.values(this.queues).map((q) => q.backend.client));
    return clients.every((c) => c.status === 'ready');
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
