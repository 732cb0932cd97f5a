import { AppException, ErrorCode, FieldIssue, httpStatusFor } from '@troupe/common';
import { databaseUnavailable, isDatabaseUnavailable } from '@troupe/db';

export interface RenderedError {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

interface HttpishError {
  statusCode?: unknown;
  status?: unknown;
  code?: unknown;
  message?: unknown;
  name?: unknown;
}

/** Classifies anything thrown into a code and a message that is safe to show. */
export function classify(err: unknown): {
  code: ErrorCode;
  message: string;
  issues?: FieldIssue[];
  retryAfterSeconds?: number;
} {
  // PostgreSQL away is an outage to wait out (503, Retry-After), wherever the query was made.
  if (!(err instanceof AppException) && isDatabaseUnavailable(err)) err = databaseUnavailable(err);
  if (err instanceof AppException) {
    return {
      code: err.code,
      message: err.message,
      issues: err.issues,
      retryAfterSeconds: err.retryAfterSeconds,
    };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as HttpishError;
  const status =
    typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : 500;
  const fastifyCode = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  switch (status) {
    case 400:
      if (e.name === 'SyntaxError' || fastifyCode.includes('JSON') || /\bnot valid JSON\b/.test(message)) {
        return { code: ErrorCode.InvalidJson, message: `The request body is not valid JSON: ${message}` };
      }
      return { code: ErrorCode.ValidationFailed, message: message || 'Bad request' };
    case 401:
      return { code: ErrorCode.Unauthenticated, message: message || 'Authentication required' };
    case 403:
      return { code: ErrorCode.Forbidden, message: message || 'Forbidden' };
    case 404:
      return { code: ErrorCode.NotFound, message: message || 'Not found' };
    case 413:
      return {
        code: ErrorCode.PayloadTooLarge,
        message: 'The request body is larger than this endpoint accepts',
      };
    case 415:
      return { code: ErrorCode.UnsupportedMediaType, message: message || 'Unsupported content type' };
    default:
      // Anything else is our fault; its details stay in the logs, not in the response.
      return { code: ErrorCode.Internal, message: 'Internal error; quote the request id when reporting it' };
  }
}

const OPENAI_TYPE: Record<ErrorCode, string> = {
  [ErrorCode.ValidationFailed]: 'invalid_request_error',
  [ErrorCode.InvalidJson]: 'invalid_request_error',
  [ErrorCode.Unauthenticated]: 'authentication_error',
  [ErrorCode.Forbidden]: 'permission_error',
  [ErrorCode.NotFound]: 'not_found_error',
  [ErrorCode.Conflict]: 'invalid_request_error',
  [ErrorCode.PayloadTooLarge]: 'invalid_request_error',
  [ErrorCode.UnsupportedMediaType]: 'invalid_request_error',
  [ErrorCode.Unprocessable]: 'invalid_request_error',
  [ErrorCode.RateLimited]: 'rate_limit_error',
  [ErrorCode.DependencyUnavailable]: 'server_error',
  [ErrorCode.Internal]: 'server_error',
};

/**
 * The one error format of each surface: Troupe's `{error:{code,message,issues,requestId}}` under
 * /api, and the OpenAI error object `{error:{message,type,param,code}}` under /v1, where clients are
 * OpenAI SDKs.
 */
export function renderError(err: unknown, url: string, requestId: string): RenderedError {
  const c = classify(err);
  const status = httpStatusFor(c.code);
  const headers: Record<string, string> = {};
  if (c.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.ceil(c.retryAfterSeconds));
  if (url.startsWith('/v1/') || url === '/v1') {
    const param = c.issues?.[0]?.field ?? null;
    return {
      status,
      headers,
      body: { error: { message: c.message, type: OPENAI_TYPE[c.code], param, code: c.code } },
    };
  }
  return {
    status,
    headers,
    body: {
      error: { code: c.code, message: c.message, ...(c.issues ? { issues: c.issues } : {}), requestId },
    },
  };
}
