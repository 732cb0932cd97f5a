import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@troupe/config';
import { QueueProducer } from './queue-producer.service';
import { ALL_QUEUES } from './queues';
import { RedisService } from './redis.service';

/** BullMQ connection from config, every queue registered, the typed producer and the Redis client. */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        prefix: config.queue.prefix,
        // BullMQ workers block on Redis; they must retry forever rather than fail commands.
        connection: { url: config.redis.url, maxRetriesPerRequest: null },
      }),
    }),
    BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name }))),
  ],
  providers: [QueueProducer, RedisService],
  exports: [QueueProducer, RedisService, BullModule],
})
export class QueueModule {}
