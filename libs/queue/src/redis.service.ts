import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { withTimeout } from '@troupe/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import Redis from 'ioredis';
import { createRedis } from './redis';

type Listener = (message: string) => void;

/** The process's Redis connections: one for commands, one (lazily) for subscriptions. */
@Injectable()
export class RedisService implements OnModuleDestroy {
  private readonly logger = new Logger(RedisService.name);
  readonly client: Redis;
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(@InjectConfig() private readonly config: AppConfig) {
    this.client = createRedis(config.redis.url);
    this.client.on('error', (err) => this.logger.warn(`redis: ${err.message}`));
  }

  async ping(timeoutMs = 2_000): Promise<boolean> {
    return withTimeout(this.client.ping(), timeoutMs).then(
      (reply) => reply === 'PONG',
      () => false,
    );
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(channel, message);
  }

  /** Subscribes a listener; returns the function that removes it. */
  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    if (!this.subscriber) {
      this.subscriber = createRedis(this.config.redis.url, { maxRetriesPerRequest: null });
      this.subscriber.on('error', (err) => this.logger.warn(`redis subscriber: ${err.message}`));
      this.subscriber.on('message', (ch: string, msg: string) => {
        for (const l of this.listeners.get(ch) ?? []) l(msg);
      });
    }
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.subscriber.subscribe(channel);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([this.client.quit(), this.subscriber?.quit()]);
  }
}
