import { Module } from '@nestjs/common';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { HoldQueue } from './hold/hold-queue';
import { GatewaySignals } from './hold/gateway-signals';
import { LoadTracker } from './hold/load-tracker';
import { GatewayLimitsModule } from './limits/limits.module';
import { EngineScraper } from './picker/engine-scraper';
import { GatewayProxy } from './proxy/gateway-proxy';
import { UpstreamAgent } from './proxy/upstream';
import { RoutingTable } from './routing/routing-table';
import { ServiceTable } from './routing/service-table';
import { ServiceTableRepository } from './routing/service-table.repository';

/**
 * The gateway's hot path: service table (PostgreSQL at start and on change, then memory), routing
 * table (watch cache), picker inputs (engine scrapes), upstream pools, hold queue and the load signals
 * for the autoscaler. Needs the app's global config, database, Redis, Kubernetes, auth and metrics.
 */
@Module({
  imports: [GatewayLimitsModule],
  providers: [
    GatewayMetrics,
    ServiceTableRepository,
    ServiceTable,
    RoutingTable,
    UpstreamAgent,
    EngineScraper,
    LoadTracker,
    HoldQueue,
    GatewaySignals,
    GatewayProxy,
  ],
  exports: [GatewayProxy, ServiceTable, RoutingTable, GatewaySignals, LoadTracker],
})
export class GatewayProxyModule {}
