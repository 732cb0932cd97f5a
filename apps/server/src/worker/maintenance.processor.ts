import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { ApiKeyService } from '@troupe/core';
import { JobName, JobPayloads, QueueName } from '@troupe/queue';
import { Job } from 'bullmq';

type MaintenanceJob = {
  [N in JobName<typeof QueueName.Maintenance>]: Job<JobPayloads[typeof QueueName.Maintenance][N], unknown, N>;
}[JobName<typeof QueueName.Maintenance>];

@Processor(QueueName.Maintenance)
export class MaintenanceProcessor extends WorkerHost implements OnModuleInit {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly apiKeys: ApiKeyService,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = this.config.queue.concurrency;
  }

  async process(job: MaintenanceJob): Promise<unknown> {
    switch (job.name) {
      case 'prune-revoked-keys': {
        const deleted = await this.apiKeys.pruneRevoked(job.data.retentionDays);
        this.logger.log(`pruned ${deleted} revoked API keys`);
        return { deleted };
      }
      default: {
        const unknownJob: never = job.name;
        throw new Error(`unknown maintenance job ${String(unknownJob)}`);
      }
    }
  }
}
