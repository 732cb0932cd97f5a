import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { withTimeout } from '@troupe/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import {
  EffectiveLimits,
  effectiveLimits,
  PROJECT_LIMITS_CHANGED_CHANNEL,
  ProjectLimits,
  ProjectService,
} from '@troupe/core';
import { RedisService } from '@troupe/queue';

/**
 * Every project's limits, in memory: the hot path never queries the database. Loaded at start,
 * reloaded for one project when `troupe:projects:limits-changed` announces a change, and entirely
 * every GATEWAY_LIMITS_REFRESH_MS (which also repairs a missed announcement). A project not (yet) in
 * the table gets the platform defaults, which is what a new project has anyway.
 */
@Injectable()
export class ProjectLimitsTable implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ProjectLimitsTable.name);
  private table = new Map<string, ProjectLimits>();
  private readonly defaults: EffectiveLimits;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  /** Reloads run one after another, so an older full reload cannot overwrite a newer change. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly projects: ProjectService,
    private readonly redis: RedisService,
  ) {
    this.defaults = config.gatewayLimits.defaults;
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    // Subscribed before the process reports ready, so that no change published after that is
    // missed; but a Redis outage at start must not stop the gateway (bounded wait; the timer covers it).
    const subscribed = this.redis
      .subscribe(PROJECT_LIMITS_CHANGED_CHANNEL, (message) => void this.reload(projectIdOf(message)))
      .then((off) => {
        this.unsubscribe = off;
      })
      .catch((err: Error) => this.logger.warn(`limit changes not subscribed: ${err.message}`));
    await withTimeout(subscribed, 2_000).catch(() =>
      this.logger.warn('limit changes not subscribed yet (Redis slow); the periodic reload covers them'),
    );
    this.timer = setInterval(() => void this.reload(), this.config.gatewayLimits.refreshMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  limitsFor(projectId: string): EffectiveLimits {
    return effectiveLimits(this.table.get(projectId) ?? null, this.defaults);
  }

  /** Reloads one project, or every project when none is named. Failures keep the current table. */
  reload(projectId?: string): Promise<void> {
    this.chain = this.chain.then(async () => {
      try {
        if (projectId) {
          const one = await this.projects.limitsByProject([projectId]);
          const limits = one.get(projectId);
          if (limits) this.table.set(projectId, limits);
          else this.table.delete(projectId);
        } else {
          this.table = await this.projects.limitsByProject();
        }
      } catch (err) {
        this.logger.warn(
          `could not reload project limits (keeping the last ones): ${(err as Error).message}`,
        );
      }
    });
    return this.chain;
  }
}

function projectIdOf(message: string): string | undefined {
  try {
    const id = (JSON.parse(message) as { projectId?: unknown }).projectId;
    return typeof id === 'string' && id ? id : undefined;
  } catch {
    return undefined;
  }
}
