import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { QueueName, QueueProducer } from '@troupe/queue';

export const REVOKED_KEY_RETENTION_DAYS = 30;

/** Registers the periodic maintenance jobs (idempotent: every worker may call it). */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly queues: QueueProducer,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queues.schedule(
      QueueName.Maintenance,
      'prune-revoked-keys',
      6 * 3600_000,
      'prune-revoked-keys',
      {
        retentionDays: REVOKED_KEY_RETENTION_DAYS,
      },
    );
    await this.queues.schedule(
      QueueName.Maintenance,
      'expire-upload-sessions',
      this.config.uploads.cleanupIntervalMs,
      'expire-upload-sessions',
      {},
    );
    // Drift repair: every live service's LWS is re-applied (idempotent SSA) twice a minute.
    await this.queues.schedule(QueueName.Deploy, 'resync', 30_000, 'resync', {});
  }
}
