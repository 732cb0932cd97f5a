import { Module } from '@nestjs/common';
import {
  ApiKeyModule,
  AutoscalerModule,
  ModelModule,
  ServiceModule,
  ServiceWatcherModule,
} from '@troupe/core';
import { AutoscalerLoop } from './autoscaler.loop';
import { DeployProcessor } from './deploy.processor';
import { MaintenanceProcessor } from './maintenance.processor';
import { MaintenanceScheduler } from './maintenance.scheduler';
import { ModelVerificationProcessor } from './model-verification.processor';

/**
 * The `worker` role: BullMQ processors (closed gracefully on shutdown by @nestjs/bullmq, which waits
 * for running jobs), the cluster watcher and the autoscaler loop (one actor across processes, by lease).
 */
@Module({
  imports: [ApiKeyModule, ModelModule, ServiceModule, ServiceWatcherModule, AutoscalerModule],
  providers: [
    MaintenanceProcessor,
    MaintenanceScheduler,
    ModelVerificationProcessor,
    DeployProcessor,
    AutoscalerLoop,
  ],
})
export class WorkerModule {}
