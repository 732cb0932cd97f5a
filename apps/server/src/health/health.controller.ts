import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { MetricsRegistry } from '@troupe/common';
import { PrismaService } from '@troupe/db';
import { RedisService } from '@troupe/queue';
import type { FastifyReply } from 'fastify';
import { Public } from '../http/auth.decorators';

/** Probes for orchestrators and scrapers; served by every role, no key needed. */
@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
    private readonly metrics: MetricsRegistry,
  ) {}

  /** Liveness: the process runs and its event loop answers. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: the dependencies every request needs answer. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    const [postgres, redis] = await Promise.all([this.prisma.ping(), this.redis.ping()]);
    const ready = postgres && redis;
    reply.status(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'not_ready',
      checks: { postgres: postgres ? 'ok' : 'unreachable', redis: redis ? 'ok' : 'unreachable' },
    };
  }

  @Get('metrics')
  @Header('cache-control', 'no-store')
  async metricsText(@Res() reply: FastifyReply) {
    reply.header('content-type', this.metrics.contentType()).send(await this.metrics.render());
  }
}
