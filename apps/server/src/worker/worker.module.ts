import { Module } from '@nestjs/common';
import { ApiKeyModule, ModelModule } from '@troupe/core';
import { MaintenanceProcessor } from './maintenance.processor';
import { MaintenanceScheduler } from './maintenance.scheduler';
import { ModelVerificationProcessor } from './model-verification.processor';

/**
 * The `worker` role: BullMQ processors (closed gracefully on shutdown by @nestjs/bullmq, which waits
 * for running jobs) and, in later features, the cluster watcher and the autoscaler loop.
 */
@Module({ imports: [ApiKeyModule, ModelModule], providers: [MaintenanceProcessor, MaintenanceScheduler, ModelVerificationProcessor] })
export class WorkerModule {}
