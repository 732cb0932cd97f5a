import { WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { OutageWarning } from '@troupe/queue';

/**
 * The processors' common set-up: concurrency, and the worker's connection errors (Redis going away
 * and reconnecting) logged as one warning per outage. Jobs resume on their own once Redis is back.
 */
export abstract class TroupeWorkerHost extends WorkerHost {
  protected configureWorker(concurrency: number): void {
    this.worker.concurrency = concurrency;
    const warning = new OutageWarning(
      new Logger(this.constructor.name),
      'job queue connection (jobs resume once Redis is back)',
    );
    this.worker.on('error', warning.note);
  }
}
