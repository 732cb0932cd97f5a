import { Logger } from '@nestjs/common';

/** Errors closer together than this belong to the same outage. */
const OUTAGE_QUIET_MS = 30_000;

/**
 * One warning per Redis outage for a BullMQ queue or worker: without an 'error' listener BullMQ prints
 * every error of every reconnect attempt with its stack. Errors closer than 30 s to the previous one
 * are the same outage and stay quiet.
 */
export class OutageWarning {
  private lastErrorAt = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly what: string,
  ) {}

  /** Listener for the emitter's 'error' event. */
  readonly note = (err: Error): void => {
    const now = Date.now();
    if (now - this.lastErrorAt > OUTAGE_QUIET_MS) this.logger.warn(`${this.what}: ${err.message}`);
    this.lastErrorAt = now;
  };
}
