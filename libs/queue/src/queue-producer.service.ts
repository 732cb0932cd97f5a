import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { AppException, ErrorCode } from '@troupe/common';
import { JobsOptions, Queue } from 'bullmq';
import { JobName, JobPayload, QueueName } from './queues';

export interface EnqueueOptions extends Pick<
  JobsOptions,
  'delay' | 'attempts' | 'priority' | 'removeOnComplete' | 'removeOnFail'
> {
  /** Derived from the entity (e.g. the service id), so that duplicates collapse into one job. */
  jobId: string;
}

/** Typed producer for every queue. Enqueue failures (Redis down) surface as 503, never silently. */
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
  }

  async enqueue<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    name: N,
    payload: JobPayload<Q, N>,
    options: EnqueueOptions,
  ): Promise<void> {
    try {
      await this.queues[queue].add(name, payload, {
        attempts: 5,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 24 * 3600 },
        ...options,
      });
    } catch (err) {
      throw new AppException(ErrorCode.DependencyUnavailable, 'The job queue is unavailable; retry shortly', {
        retryAfterSeconds: 5,
        cause: err,
      });
    }
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
