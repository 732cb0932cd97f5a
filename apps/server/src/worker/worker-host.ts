import { WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';

/** Errors closer together than this belong to the same outage: one warning for all of them. */
const OUTAGE_QUIET_MS = 30_000;

/**
 * The processors' common set-up: concurrency, and the worker's connection errors (Redis going away
 * and reconnecting) logged as one warning per outage — without a listener BullMQ prints every error
 * of every reconnect attempt with its stack. Jobs resume on their own once Redis is back.
 */
export abstract class TroupeWorkerHost extends WorkerHost {
  private lastErrorAt = 0;

  protected configureWorker(concurrency: number): void {
    const logger = new Logger(this.constructor.name);
    this.worker.concurrency = concurrency;
    this.worker.on('error', (err) => {
      const now = Date.now();
      if (now - this.lastErrorAt > OUTAGE_QUIET_MS)
        logger.warn(`job queue connection: ${err.message} (jobs resume once Redis is back)`);
      this.lastErrorAt = now;
    });
  }
}
