import { LoggerService } from '@nestjs/common';
import pino, { Logger as Pino, LevelWithSilent } from 'pino';
import { currentRequestId } from './request-context';

export interface LoggerOptions {
  level: LevelWithSilent;
  pretty: boolean;
  name?: string;
}

/** One pino logger per process: JSON lines in production, pretty output in development. */
export function createLogger(options: LoggerOptions): Pino {
  return pino({
    name: options.name ?? 'troupe',
    level: options.level,
    // Authorization headers and keys never reach logs.
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.key', 'key'],
      censor: '[redacted]',
    },
    mixin: () => {
      const reqId = currentRequestId();
      return reqId ? { reqId } : {};
    },
    transport: options.pretty
      ? { target: 'pino-pretty', options: { colorize: true, singleLine: true } }
      : undefined,
  });
}

/** Nest's logger interface on top of pino, so framework and feature logs share one stream and format. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, params: unknown[]) {
    const context = typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ context, ...(message as Record<string, unknown>) });
    } else {
      const stack = level === 'error' && typeof params[0] === 'string' ? params[0] : undefined;
      this.pino[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }

  log(message: unknown, ...params: unknown[]) {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.write('error', message, params);
  }
}
