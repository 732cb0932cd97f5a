export * from './outage-warning';
export * from './queues';
export * from './redis';
export * from './redis.service';
export * from './queue-producer.service';
export * from './queue.module';
