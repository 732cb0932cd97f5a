import { Processor } from '@nestjs/bullmq';
import { OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { ReconcileService } from '@troupe/core';
import { JobName, JobPayloads, QueueName } from '@troupe/queue';
import { Job } from 'bullmq';
import { TroupeWorkerHost } from './worker-host';

type DeployJob = {
  [N in JobName<typeof QueueName.Deploy>]: Job<JobPayloads[typeof QueueName.Deploy][N], unknown, N>;
}[JobName<typeof QueueName.Deploy>];

/** Applies services' LeaderWorkerSets; failures (Kubernetes API unreachable) are retried with backoff. */
@Processor(QueueName.Deploy)
export class DeployProcessor extends TroupeWorkerHost implements OnModuleInit {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly reconciler: ReconcileService,
  ) {
    super();
  }

  onModuleInit(): void {
    // Reconciles are I/O-bound (a few Kubernetes and database round trips): run many at once.
    this.configureWorker(Math.max(this.config.queue.concurrency * 4, 16));
  }

  async process(job: DeployJob): Promise<unknown> {
    switch (job.name) {
      case 'reconcile':
        await this.reconciler.reconcile(job.data.serviceId);
        return { ok: true };
      case 'resync':
        return { enqueued: await this.reconciler.resync() };
      default:
        throw new Error(`unknown deploy job ${(job as Job).name}`);
    }
  }
}
