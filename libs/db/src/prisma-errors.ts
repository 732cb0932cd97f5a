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
  if (err instanceof Prisma.PrismaClientInitializationError) {
    throw new AppException(ErrorCode.DependencyUnavailable, 'The database is unavailable; retry shortly', {
      retryAfterSeconds: 5,
      cause: err,
    });
  }
  throw err;
}
