import { AppException, ErrorCode } from '@troupe/common';
import { describe, expect, it } from 'vitest';
import { isNetworkError, parseStatus, toKubeException } from './kube-errors';

function apiError(code: number, body: unknown, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`HTTP-Code: ${code}`), { code, body, headers });
}

function mapped(err: unknown): AppException {
  const out = toKubeException(err, 'apply leaderworkerset ns/llm');
  expect(out).toBeInstanceOf(AppException);
  return out as AppException;
}

const status = (code: number, reason: string, message: string, details?: unknown) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
  ...(details ? { details } : {}),
});

describe('parseStatus', () => {
  it('reads a Status object or its JSON text', () => {
    const s = status(404, 'NotFound', 'leaderworkersets.leaderworkerset.x-k8s.io "x" not found');
    expect(parseStatus(s)).toMatchObject({ code: 404, reason: 'NotFound' });
    expect(parseStatus(JSON.stringify(s))).toMatchObject({ code: 404, reason: 'NotFound' });
    expect(parseStatus('upstream connect error')).toEqual({ message: 'upstream connect error' });
    expect(parseStatus(undefined)).toBeUndefined();
  });
});

describe('toKubeException', () => {
  it('404 → NotFound with the API message', () => {
    const e = mapped(
      apiError(404, status(404, 'NotFound', 'leaderworkersets.leaderworkerset.x-k8s.io "x" not found')),
    );
    expect(e.code).toBe(ErrorCode.NotFound);
    expect(e.message).toBe('leaderworkersets.leaderworkerset.x-k8s.io "x" not found');
  });

  it('409 → Conflict with the Status message (SSA field conflict)', () => {
    const body = status(
      409,
      'Conflict',
      'Apply failed with 1 conflict: conflict with "troupe-autoscaler" with subresource "scale" using leaderworkerset.x-k8s.io/v1: .spec.replicas',
      {
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "troupe-autoscaler"',
            field: '.spec.replicas',
          },
        ],
      },
    );
    const e = mapped(apiError(409, JSON.stringify(body)));
    expect(e.code).toBe(ErrorCode.Conflict);
    expect(e.message).toContain('conflict with "troupe-autoscaler"');
  });

  it('422 → Unprocessable with one issue per cause (message, field)', () => {
    const body = status(
      422,
      'Invalid',
      'LeaderWorkerSet.leaderworkerset.x-k8s.io "x" is invalid: spec.startupPolicy: Unsupported value',
      {
        causes: [
          {
            reason: 'FieldValueNotSupported',
            message: 'Unsupported value: "X": supported values: "LeaderCreated", "LeaderReady"',
            field: 'spec.startupPolicy',
          },
          {
            reason: 'FieldValueRequired',
            field: 'spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].image',
          },
        ],
      },
    );
    const e = mapped(apiError(422, body));
    expect(e.code).toBe(ErrorCode.Unprocessable);
    expect(e.issues).toEqual([
      {
        field: 'spec.startupPolicy',
        message: 'Unsupported value: "X": supported values: "LeaderCreated", "LeaderReady"',
      },
      {
        field: 'spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].image',
        message: 'FieldValueRequired',
      },
    ]);
  });

  it('400 → Unprocessable (fields the schema does not declare)', () => {
    const e = mapped(apiError(400, status(400, 'BadRequest', '.spec.bogus: field not declared in schema')));
    expect(e.code).toBe(ErrorCode.Unprocessable);
    expect(e.message).toBe('.spec.bogus: field not declared in schema');
  });

  it('403 from an admission webhook → Unprocessable; other 403 → DependencyUnavailable naming RBAC', () => {
    const webhook = mapped(
      apiError(
        403,
        status(
          403,
          'Forbidden',
          'admission webhook "vleaderworkerset.kb.io" denied the request: size must be >= 1',
        ),
      ),
    );
    expect(webhook.code).toBe(ErrorCode.Unprocessable);
    const rbac = mapped(
      apiError(
        403,
        status(
          403,
          'Forbidden',
          'leaderworkersets is forbidden: User "system:serviceaccount:troupe:troupe" cannot patch',
        ),
      ),
    );
    expect(rbac.code).toBe(ErrorCode.DependencyUnavailable);
    expect(rbac.message).toContain('RBAC');
  });

  it('5xx and 429 → DependencyUnavailable with retryAfterSeconds', () => {
    const e = mapped(apiError(503, status(503, 'ServiceUnavailable', 'etcdserver: leader changed')));
    expect(e.code).toBe(ErrorCode.DependencyUnavailable);
    expect(e.message).toMatch(/^Kubernetes API unreachable: 503 etcdserver: leader changed/);
    expect(e.retryAfterSeconds).toBe(5);
    const busy = mapped(apiError(429, status(429, 'TooManyRequests', 'slow down'), { 'retry-after': '7' }));
    expect(busy.code).toBe(ErrorCode.DependencyUnavailable);
    expect(busy.retryAfterSeconds).toBe(7);
  });

  it('network errors → DependencyUnavailable "Kubernetes API unreachable"', () => {
    const fetchError = Object.assign(
      new Error('request to http://127.0.0.1:1/apis failed, reason: connect ECONNREFUSED 127.0.0.1:1'),
      { name: 'FetchError', code: 'ECONNREFUSED', type: 'system' },
    );
    expect(isNetworkError(fetchError)).toBe(true);
    const e = mapped(fetchError);
    expect(e.code).toBe(ErrorCode.DependencyUnavailable);
    expect(e.message).toMatch(
      /^Kubernetes API unreachable: .*ECONNREFUSED.*\(apply leaderworkerset ns\/llm\)$/,
    );
    expect(e.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('passes AppExceptions through and leaves programming errors alone', () => {
    const app = new AppException(ErrorCode.Conflict, 'x');
    expect(toKubeException(app, 'x')).toBe(app);
    const bug = new TypeError('cannot read properties of undefined');
    expect(toKubeException(bug, 'x')).toBe(bug);
  });
});
