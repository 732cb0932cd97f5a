import { OnWorkerEvent, Processor } from '@nestjs/bullmq';
import { Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { VerificationService } from '@troupe/core';
import { JobPayloads, QueueName } from '@troupe/queue';
import { Job } from 'bullmq';
import { TroupeWorkerHost } from './worker-host';

type VerifyJob = Job<
  JobPayloads[typeof QueueName.ModelVerification]['verify-version'],
  unknown,
  'verify-version'
>;

/** Verifies finalized model versions; retried with backoff when storage or the database hiccups. */
@Processor(QueueName.ModelVerification)
export class ModelVerificationProcessor extends TroupeWorkerHost implements OnModuleInit {
  private readonly logger = new Logger(ModelVerificationProcessor.name);

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly verification: VerificationService,
  ) {
    super();
  }

  onModuleInit(): void {
    this.configureWorker(this.config.queue.concurrency);
  }

  async process(job: VerifyJob): Promise<unknown> {
    switch (job.name) {
      case 'verify-version':
        return { result: await this.verification.verify(job.data.versionId) };
      default:
        throw new Error(`unknown job ${(job as Job).name}`);
    }
  }

  /** After the last attempt the version must not stay VERIFYING forever: it fails with the cause. */
  @OnWorkerEvent('failed')
  async onFailed(job: VerifyJob | undefined, error: Error): Promise<void> {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    this.logger.error(`verification of ${job.data.versionId} gave up: ${error.message}`);
    await this.verification.giveUp(job.data.versionId, error.message);
  }
}
