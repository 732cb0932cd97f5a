import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { Agent } from 'undici';

/**
 * The connection pools to engines: one undici Agent, which keeps one keep-alive Pool per leader
 * address (GATEWAY_UPSTREAM_CONNECTIONS connections at most each). Timeouts of the exchange itself
 * (first byte, idle) are the proxy's; the Agent only bounds connecting.
 */
@Injectable()
export class UpstreamAgent implements OnModuleDestroy {
  readonly agent: Agent;

  constructor(@InjectConfig() config: AppConfig) {
    this.agent = new Agent({
      connections: config.gateway.upstreamConnections,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      connect: { timeout: config.gateway.connectTimeoutMs, noDelay: true },
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.destroy().catch(() => undefined);
  }
}
