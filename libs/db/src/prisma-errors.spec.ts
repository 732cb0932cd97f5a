import { AppException, ErrorCode } from '@troupe/common';
import { describe, expect, it } from 'vitest';
import { Prisma } from './generated/client';
import { isDatabaseUnavailable, mapPrismaError, PrismaErrorCode } from './prisma-errors';

const known = (code: string, meta?: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError('boom', { code, clientVersion: 'test', meta });

describe('isDatabaseUnavailable', () => {
  it.each<[string, unknown, boolean]>([
    ['P1001 (cannot reach)', known('P1001'), true],
    ['P1017 (server closed the connection)', known('P1017'), true],
    [
      'a driver adapter ConnectionClosed',
      known('P2010', {
        driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'ConnectionClosed' } },
      }),
      true,
    ],
    ['an initialization error', new Prisma.PrismaClientInitializationError('no db', 'test'), true],
    [
      'a bare ECONNREFUSED (could be any dependency)',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      false,
    ],
    [
      'PostgreSQL shutting down (57P01)',
      Object.assign(new Error('terminating'), { code: '57P01', severity: 'FATAL' }),
      true,
    ],
    ['a unique violation', known(PrismaErrorCode.UniqueConstraintFailed), false],
    ['a record not found', known(PrismaErrorCode.RecordNotFound), false],
    [
      'a query error from the adapter',
      known('P2010', { driverAdapterError: { cause: { kind: 'postgres', code: '42P01' } } }),
      false,
    ],
    ['a plain error', new Error('something else'), false],
    ['not an error', 'nope', false],
  ])('%s -> %s', (_, err, expected) => {
    expect(isDatabaseUnavailable(err)).toBe(expected);
  });
});

describe('mapPrismaError', () => {
  it('turns an outage into 503 DependencyUnavailable with a retry hint, and rethrows the rest', () => {
    let thrown: unknown;
    try {
      mapPrismaError(known('P1001'), {});
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppException);
    expect((thrown as AppException).code).toBe(ErrorCode.DependencyUnavailable);
    expect((thrown as AppException).retryAfterSeconds).toBe(5);
    const other = new Error('x');
    expect(() => mapPrismaError(other, {})).toThrow(other);
  });
});
