import { AppException, ErrorCode } from '@troupe/common';
import { Prisma } from './generated/client';

/** Prisma error codes Troupe gives a meaning to (https://www.prisma.io/docs/orm/reference/error-reference). */
export const PrismaErrorCode = {
  UniqueConstraintFailed: 'P2002',
  ForeignKeyConstraintFailed: 'P2003',
  RecordNotFound: 'P2025',
} as const;

export function isPrismaError(err: unknown, code: string): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === code;
}

/**
 * Maps the Prisma errors a feature expects to the domain error it chose; anything else is rethrown
 * unchanged (the global filter turns it into a 500 with a request id).
 */
export function mapPrismaError(
  err: unknown,
  map: { uniqueViolation?: () => AppException; notFound?: () => AppException },
): never {
  if (map.uniqueViolation && isPrismaError(err, PrismaErrorCode.UniqueConstraintFailed))
    throw map.uniqueViolation();
  if (map.notFound && isPrismaError(err, PrismaErrorCode.RecordNotFound)) throw map.notFound();
  if (isDatabaseUnavailable(err)) throw databaseUnavailable(err);
  throw err;
}

/** Driver-adapter error kinds that mean "PostgreSQL cannot be used right now", not "the query is wrong". */
const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'DatabaseDoesNotExist',
  'AuthenticationFailed',
]);
/** PostgreSQL SQLSTATEs of the same meaning, on `pg` errors (which carry a `severity`). */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

/**
 * Whether an error means PostgreSQL is unreachable or refusing work (down, restarting, connection
 * lost, pool timed out), as opposed to a bad query: Prisma's P1xxx codes, initialization errors, the
 * driver adapter's connection kinds, and `pg`'s shutdown SQLSTATEs. Bare socket errors are not taken
 * for PostgreSQL's: they could come from any dependency, and the answer names the one that is away.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (/^P1\d{3}$/.test(err.code)) return true;
    const kind = (err.meta as { driverAdapterError?: { cause?: { kind?: string } } } | undefined)
      ?.driverAdapterError?.cause?.kind;
    return kind !== undefined && UNAVAILABLE_KINDS.has(kind);
  }
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; severity?: unknown; cause?: unknown; name?: unknown };
  if (typeof e.severity === 'string' && typeof e.code === 'string' && UNAVAILABLE_SQLSTATES.has(e.code))
    return true;
  if (e.name === 'DriverAdapterError') {
    const kind = (e.cause as { kind?: string } | undefined)?.kind;
    return kind !== undefined && UNAVAILABLE_KINDS.has(kind);
  }
  return false;
}

export function databaseUnavailable(cause: unknown): AppException {
  return new AppException(ErrorCode.DependencyUnavailable, 'PostgreSQL is unavailable; retry shortly', {
    retryAfterSeconds: 5,
    cause,
  });
}
