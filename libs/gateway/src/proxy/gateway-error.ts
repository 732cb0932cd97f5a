// The OpenAI error object, as OpenAI and vLLM answer it: {"error":{"message","type","param","code"}}.

export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

/**
 * An error the gateway answers itself (before or instead of an engine's answer). The status, type and
 * code are what OpenAI SDKs and clients branch on; `retryAfterSeconds` becomes `Retry-After`.
 */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: OpenAiErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  /** The JSON body of the error response. */
  body(): string {
    return JSON.stringify({
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    });
  }

  /** The error as one Server-Sent Event, for a stream whose response already started. */
  sseEvent(): string {
    return `data: ${this.body()}\n\n`;
  }

  static badRequest(code: string, message: string, param: string | null = null): GatewayError {
    return new GatewayError(400, 'invalid_request_error', code, message, param);
  }

  static unauthenticated(message: string): GatewayError {
    return new GatewayError(401, 'authentication_error', 'invalid_api_key', message);
  }

  static forbidden(message: string): GatewayError {
    return new GatewayError(403, 'permission_error', 'permission_denied', message);
  }

  static modelNotFound(model: string, extra = ''): GatewayError {
    return new GatewayError(
      404,
      'invalid_request_error',
      'model_not_found',
      `The model \`${model}\` does not exist or you do not have access to it.${extra}`,
      'model',
    );
  }

  static tooLarge(limitBytes: number): GatewayError {
    return new GatewayError(
      413,
      'invalid_request_error',
      'request_too_large',
      `The request body is larger than the gateway accepts (${limitBytes} bytes; GATEWAY_BODY_LIMIT_BYTES).`,
    );
  }

  static rateLimited(code: string, message: string, retryAfterSeconds: number): GatewayError {
    return new GatewayError(429, 'rate_limit_error', code, message, null, retryAfterSeconds);
  }

  static unavailable(message: string, retryAfterSeconds: number, code = 'service_unavailable'): GatewayError {
    return new GatewayError(503, 'server_error', code, message, null, retryAfterSeconds);
  }

  static badGateway(message: string): GatewayError {
    return new GatewayError(502, 'server_error', 'upstream_error', message);
  }

  static upstreamTimeout(message: string): GatewayError {
    return new GatewayError(504, 'server_error', 'upstream_timeout', message);
  }
}
