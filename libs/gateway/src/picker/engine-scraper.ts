import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import type { EngineKind } from '@troupe/lws';
import { request } from 'undici';
import { UpstreamAgent } from '../proxy/upstream';
import { RoutingTable, UpstreamEndpoint } from '../routing/routing-table';
import { parseEngineLoad } from './engine-metrics';

const SCRAPE_TIMEOUT_MS = 1_000;
const MAX_METRICS_BYTES = 4 * 1024 * 1024;

/**
 * Off the request path: reads each ready leader's `/metrics` every GATEWAY_SCRAPE_INTERVAL_MS and
 * keeps its waiting queue (by the names of the service's engine) on the endpoint: the picker's
 * tie-break. A failed scrape forgets the value.
 */
@Injectable()
export class EngineScraper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EngineScraper.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly routing: RoutingTable,
    private readonly upstream: UpstreamAgent,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.gateway.scrapeIntervalMs;
    if (every <= 0) return;
    this.timer = setInterval(() => void this.scrapeAll(), every);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async scrapeAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const work: Promise<void>[] = [];
      for (const route of this.routing.allRoutes()) {
        for (const e of route.endpoints) work.push(this.scrape(e, route.service.engine));
      }
      await Promise.all(work);
    } finally {
      this.running = false;
    }
  }

  private async scrape(e: UpstreamEndpoint, engine: EngineKind): Promise<void> {
    try {
      const res = await request(`${e.origin}/metrics`, {
        dispatcher: this.upstream.agent,
        headersTimeout: SCRAPE_TIMEOUT_MS,
        bodyTimeout: SCRAPE_TIMEOUT_MS,
      });
      if (res.statusCode !== 200 || Number(res.headers['content-length'] ?? 0) > MAX_METRICS_BYTES) {
        await res.body.dump();
        e.waiting = undefined;
        return;
      }
      e.waiting = parseEngineLoad(await res.body.text(), engine).waiting;
    } catch (err) {
      if (e.waiting !== undefined) this.logger.debug(`metrics of ${e.pod}: ${(err as Error).message}`);
      e.waiting = undefined;
    }
  }
}
