import { Module } from '@nestjs/common';
import { ProjectModule } from '@troupe/core';
import { UsageRecorder } from '../usage/usage-recorder';
import { UsageMetrics } from '../usage/usage.metrics';
import { UsageRepository } from '../usage/usage.repository';
import { GatewayLimiter } from './gateway-limiter';
import { LimitsMetrics } from './limits.metrics';
import { ProjectLimitsTable } from './limits-table';

/**
 * What the gateway hot path calls around each request: `GatewayLimiter` before proxying, and
 * `UsageRecorder` once the response ended. Needs the global config, database, Redis and metrics
 * modules of the app.
 */
@Module({
  imports: [ProjectModule],
  providers: [
    ProjectLimitsTable,
    LimitsMetrics,
    GatewayLimiter,
    UsageMetrics,
    UsageRepository,
    UsageRecorder,
  ],
  exports: [GatewayLimiter, UsageRecorder],
})
export class GatewayLimitsModule {}
