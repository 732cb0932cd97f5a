import { Module } from '@nestjs/common';
import { ApiKeyModule, ModelModule, ServiceModule, ServiceWatcherModule } from '@troupe/core';
import { DeployProcessor } from './deploy.processor';
import { MaintenanceProcessor } from './maintenance.processor';
import { MaintenanceScheduler } from './maintenance.scheduler';
import { ModelVerificationProcessor } from './model-verification.processor';

/**
 * The `worker` role: BullMQ processors (closed gracefully on shutdown by @nestjs/bullmq, which waits
 * for running jobs) and, in later features, the cluster watcher and the autoscaler loop.
 */
@Module({
  imports: [ApiKeyModule, ModelModule, ServiceModule, ServiceWatcherModule],
  providers: [MaintenanceProcessor, MaintenanceScheduler, ModelVerificationProcessor, DeployProcessor],
})
export class WorkerModule {}
