import { describe, expect, it } from 'vitest';
import { ApiError, encodePath, isTransient, NetworkError, toApiError } from './api-client';
import { errorMessage } from './cli';

describe('api client errors', () => {
  it("reads the platform's error envelope", () => {
    const err = toApiError(
      400,
      JSON.stringify({
        error: {
          code: 'validation_failed',
          message: 'Invalid request',
          issues: [{ field: 'name', message: 'bad' }],
          requestId: 'r1',
        },
      }),
    );
    expect(err).toMatchObject({
      status: 400,
      code: 'validation_failed',
      message: 'Invalid request',
      requestId: 'r1',
    });
    expect(errorMessage(err)).toBe('error: Invalid request (request r1)\n  - name: bad');
  });

  it('describes anything else (a proxy page) by status, with the request id header', () => {
    const err = toApiError(502, '<html>Bad Gateway</html>', 'h1');
    expect(err.message).toBe('HTTP 502: <html>Bad Gateway</html>');
    expect(err.describe()).toBe('HTTP 502: <html>Bad Gateway</html> (request h1)');
  });

  it('retries network errors and 408/429/5xx only', () => {
    expect(isTransient(new NetworkError('x', 'u'))).toBe(true);
    expect(isTransient(new ApiError(503, 'x', 'x'))).toBe(true);
    expect(isTransient(new ApiError(429, 'x', 'x'))).toBe(true);
    expect(isTransient(new ApiError(404, 'x', 'x'))).toBe(false);
    expect(isTransient(new Error('x'))).toBe(false);
  });

  it('encodes file paths segment by segment', () => {
    expect(encodePath('sub dir/a#b.json')).toBe('sub%20dir/a%23b.json');
  });
});
