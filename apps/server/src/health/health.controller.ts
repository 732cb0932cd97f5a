import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { MetricsRegistry } from '@troupe/common';
import { PrismaService } from '@troupe/db';
import { KubeClient } from '@troupe/kube';
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
    private readonly kube: KubeClient,
  ) {}

  private kubeCheck?: { at: number; value: Promise<string> };

  /** Whether the cluster serves the LWS API; cached 10 s so probes do not load the API server. */
  private kubernetes(): Promise<string> {
    if (!this.kube.configured) return Promise.resolve('not configured');
    if (!this.kubeCheck || Date.now() - this.kubeCheck.at > 10_000) {
      const value = this.kube.lwsApiAvailable().then(
        (ok) =>
          ok
            ? 'ok'
            : 'the LeaderWorkerSet API (leaderworkerset.x-k8s.io/v1) is not served: install the LWS controller >= 0.7',
        (err: Error) => `unreachable: ${err.message}`,
      );
      this.kubeCheck = { at: Date.now(), value };
    }
    return this.kubeCheck.value;
  }

  /** Liveness: the process runs and its event loop answers. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Readiness: the dependencies every request needs answer (PostgreSQL, Redis). Kubernetes is
   * reported but does not make the process unready: services are accepted and reconciled once the
   * cluster answers, with the error shown in their status.
   */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    const [postgres, redis, kubernetes] = await Promise.all([
      this.prisma.ping(),
      this.redis.ping(),
      this.kubernetes(),
    ]);
    const ready = postgres && redis;
    reply.status(ready ? 200 : 503);
    return {
      status: ready
        ? kubernetes === 'ok' || kubernetes === 'not configured'
          ? 'ready'
          : 'degraded'
        : 'not_ready',
      checks: { postgres: postgres ? 'ok' : 'unreachable', redis: redis ? 'ok' : 'unreachable', kubernetes },
    };
  }

  @Get('metrics')
  @Header('cache-control', 'no-store')
  async metricsText(@Res() reply: FastifyReply) {
    reply.header('content-type', this.metrics.contentType()).send(await this.metrics.render());
  }
}
