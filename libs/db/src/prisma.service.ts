import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { withTimeout } from '@troupe/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { PrismaClient } from './generated/client';

/**
 * The database client. Connects at start (so a process with an unreachable database fails to boot
 * with a clear message instead of failing its first request) and closes its pool on shutdown.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PrismaService.name);

  constructor(@InjectConfig() config: AppConfig) {
    super({
      adapter: new PrismaPg({
        connectionString: config.database.url,
        max: config.database.poolMax,
        connectionTimeoutMillis: 5_000,
      }),
    });
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.$queryRaw`SELECT 1`;
    } catch (err) {
      throw new Error(`PostgreSQL is unreachable: ${(err as Error).message}`, { cause: err });
    }
    this.logger.log('connected to PostgreSQL');
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }

  /** For /readyz: true when a trivial query answers within the timeout. */
  async ping(timeoutMs = 2_000): Promise<boolean> {
    return withTimeout(this.$queryRaw`SELECT 1`, timeoutMs).then(
      () => true,
      () => false,
    );
  }
}
