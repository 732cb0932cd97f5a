import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { MetricsRegistry, withTimeout } from '@troupe/common';
import { PrismaService } from '@troupe/db';
import { KubeClient } from '@troupe/kube';
import { QueueProducer, RedisService } from '@troupe/queue';
import { ObjectStorage } from '@troupe/storage';
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
    private readonly storage: ObjectStorage,
    private readonly queues: QueueProducer,
  ) {}

  private readonly checks = new Map<string, { at: number; value: Promise<string> }>();

  /** An optional dependency's state, cached 10 s so probes do not load it. */
  private cached(name: string, check: () => Promise<string>): Promise<string> {
    const hit = this.checks.get(name);
    if (hit && Date.now() - hit.at <= 10_000) return hit.value;
    const value = withTimeout(check(), 5_000).catch((err: Error) => `unreachable: ${err.message}`);
    this.checks.set(name, { at: Date.now(), value });
    return value;
  }

  /** Whether the cluster serves the LWS API. */
  private kubernetes(): Promise<string> {
    if (!this.kube.configured) return Promise.resolve('not configured');
    return this.cached('kubernetes', async () =>
      (await this.kube.lwsApiAvailable())
        ? 'ok'
        : 'the LeaderWorkerSet API (leaderworkerset.x-k8s.io/v1) is not served: install the LWS controller >= 0.7',
    );
  }

  /** Whether object storage answers and has the bucket (uploads and verification need it). */
  private objectStorage(): Promise<string> {
    if (!this.storage.configured) return Promise.resolve('not configured');
    return this.cached('objectStorage', async () => {
      await this.storage.ping();
      return 'ok';
    });
  }

  /** Liveness: the process runs and its event loop answers. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Readiness: the dependencies every request needs answer (PostgreSQL, Redis). Kubernetes and object
   * storage are reported ("degraded" when one is away) but do not make the process unready: services
   * are accepted and reconciled once the cluster answers, and uploads answer 503 with Retry-After
   * while the store is away, while everything else goes on being served.
   */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    const [postgres, redis, kubernetes, objectStorage] = await Promise.all([
      this.prisma.ping(),
      // Redis counts as up once both our client and the job queues' connection are (they reconnect
      // on their own schedules; an enqueue needs the latter).
      Promise.all([this.redis.ping(), withTimeout(this.queues.connected(), 2_000).catch(() => false)]).then(
        ([client, queues]) => client && queues,
      ),
      this.kubernetes(),
      this.objectStorage(),
    ]);
    const ready = postgres && redis;
    const optionalOk = [kubernetes, objectStorage].every((c) => c === 'ok' || c === 'not configured');
    reply.status(ready ? 200 : 503);
    return {
      status: ready ? (optionalOk ? 'ready' : 'degraded') : 'not_ready',
      checks: {
        postgres: postgres ? 'ok' : 'unreachable',
        redis: redis ? 'ok' : 'unreachable',
        kubernetes,
        objectStorage,
      },
    };
  }

  @Get('metrics')
  @Header('cache-control', 'no-store')
  async metricsText(@Res() reply: FastifyReply) {
    reply.header('content-type', this.metrics.contentType()).send(await this.metrics.render());
  }
}
