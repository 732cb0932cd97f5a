import { Processor } from '@nestjs/bullmq';
import { Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { ApiKeyService, UploadService } from '@troupe/core';
import { JobName, JobPayloads, QueueName } from '@troupe/queue';
import { Job } from 'bullmq';
import { TroupeWorkerHost } from './worker-host';

type MaintenanceJob = {
  [N in JobName<typeof QueueName.Maintenance>]: Job<JobPayloads[typeof QueueName.Maintenance][N], unknown, N>;
}[JobName<typeof QueueName.Maintenance>];

@Processor(QueueName.Maintenance)
export class MaintenanceProcessor extends TroupeWorkerHost implements OnModuleInit {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly apiKeys: ApiKeyService,
    private readonly uploads: UploadService,
  ) {
    super();
  }

  onModuleInit(): void {
    this.configureWorker(this.config.queue.concurrency);
  }

  async process(job: MaintenanceJob): Promise<unknown> {
    switch (job.name) {
      case 'prune-revoked-keys': {
        const deleted = await this.apiKeys.pruneRevoked(job.data.retentionDays);
        this.logger.log(`pruned ${deleted} revoked API keys`);
        return { deleted };
      }
      case 'expire-upload-sessions': {
        const aborted = await this.uploads.expireSessions();
        if (aborted > 0) this.logger.log(`aborted ${aborted} expired upload sessions`);
        return { aborted };
      }
      default:
        throw new Error(`unknown maintenance job ${(job as Job).name}`);
    }
  }
}
