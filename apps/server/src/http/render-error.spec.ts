import { AppException, ErrorCode } from '@troupe/common';
import { describe, expect, it } from 'vitest';
import { Prisma } from '@troupe/db';
import { renderError } from './render-error';

describe('renderError', () => {
  it('answers PostgreSQL being away with 503 and Retry-After, wherever the query was made', () => {
    const err = new Prisma.PrismaClientKnownRequestError("Can't reach database server", {
      code: 'P1001',
      clientVersion: 'test',
    });
    const r = renderError(err, '/api/v1/models', 'req-1');
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.body).toMatchObject({ error: { code: 'dependency_unavailable', message: /PostgreSQL/ } });
  });

  it('renders an AppException with its status, issues and the request id under /api', () => {
    const err = AppException.validation([{ field: 'name', message: 'required' }]);
    const r = renderError(err, '/api/v1/projects', 'req-1');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: {
        code: 'validation_failed',
        message: 'Invalid request: name: required',
        issues: [{ field: 'name', message: 'required' }],
        requestId: 'req-1',
      },
    });
  });

  it('renders the OpenAI error object under /v1', () => {
    const r = renderError(
      new AppException(ErrorCode.Unauthenticated, 'Invalid API key'),
      '/v1/chat/completions',
      'r',
    );
    expect(r.status).toBe(401);
    expect(r.body).toEqual({
      error: {
        message: 'Invalid API key',
        type: 'authentication_error',
        param: null,
        code: 'unauthenticated',
      },
    });
  });

  it('sets Retry-After when the error says when to retry', () => {
    const err = new AppException(ErrorCode.DependencyUnavailable, 'down', { retryAfterSeconds: 4.2 });
    expect(renderError(err, '/api/v1/x', 'r').headers['retry-after']).toBe('5');
  });

  it.each([
    [{ statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: 'bad' }, 400, 'invalid_json'],
    [Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 }), 400, 'invalid_json'],
    [
      { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'Request body is too large' },
      413,
      'payload_too_large',
    ],
    [{ statusCode: 415, message: 'Unsupported Media Type' }, 415, 'unsupported_media_type'],
    [{ status: 404, message: 'Cannot GET /nope' }, 404, 'not_found'],
  ])('maps framework error %j to %i %s', (err, status, code) => {
    const r = renderError(err, '/api/v1/x', 'r');
    expect(r.status).toBe(status);
    expect((r.body as { error: { code: string } }).error.code).toBe(code);
  });

  it('hides the details of unexpected errors', () => {
    const r = renderError(new Error('password=hunter2 at db.ts:12'), '/api/v1/x', 'req-9');
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toContain('hunter2');
    expect(JSON.stringify(r.body)).toContain('req-9');
  });
});
