// What the gateway reads of an OpenAI request body: parsed once, forwarded as the caller's bytes.

import { GatewayError } from './gateway-error';

export type OpenAiEndpoint = 'chat/completions' | 'completions' | 'embeddings';

export const OPENAI_ENDPOINTS: readonly OpenAiEndpoint[] = ['chat/completions', 'completions', 'embeddings'];

export interface ParsedRequest {
  model: string;
  stream: boolean;
  /** The caller asked for the usage chunk of a stream (`stream_options.include_usage: true`). */
  clientWantsUsage: boolean;
  /** The OpenAI `user` field, when a non-empty string (session affinity). */
  user?: string;
  /** The parsed body (read again only by cache-aware routing, for the prompt's prefix). */
  body: Record<string, unknown>;
  /** Bytes to send upstream: the caller's own, unless `include_usage` had to be set. */
  upstreamBody: Buffer;
}

/** Field each endpoint cannot do without (beside `model`). */
const REQUIRED: Record<OpenAiEndpoint, string> = {
  'chat/completions': 'messages',
  completions: 'prompt',
  embeddings: 'input',
};

const INCLUDE_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and checks a request body. Streams must report usage (the gateway accounts tokens), so when
 * the caller did not ask for it, `stream_options.include_usage` is set: by inserting the member after
 * the opening brace when there is no `stream_options` (the caller's bytes are otherwise untouched), or
 * by re-serialising in the rare case of a `stream_options` without it.
 */
export function parseRequest(endpoint: OpenAiEndpoint, raw: Buffer): ParsedRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw GatewayError.badRequest(
      'invalid_json',
      `The request body is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (!isObject(body)) {
    throw GatewayError.badRequest('invalid_request', 'The request body must be a JSON object.');
  }
  const model = body.model;
  if (model === undefined || model === null) {
    throw GatewayError.badRequest(
      'missing_required_parameter',
      "Missing required parameter: 'model'.",
      'model',
    );
  }
  if (typeof model !== 'string' || model.length === 0) {
    throw GatewayError.badRequest('invalid_type', "'model' must be a non-empty string.", 'model');
  }
  const required = REQUIRED[endpoint];
  const value = body[required];
  if (value === undefined || value === null) {
    throw GatewayError.badRequest(
      'missing_required_parameter',
      `Missing required parameter: '${required}'.`,
      required,
    );
  }
  if (endpoint === 'chat/completions' && (!Array.isArray(value) || value.length === 0)) {
    throw GatewayError.badRequest('invalid_type', "'messages' must be a non-empty array.", 'messages');
  }
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw GatewayError.badRequest('invalid_type', "'stream' must be a boolean.", 'stream');
  }
  const streaming = stream === true && endpoint !== 'embeddings';
  const options = body.stream_options;
  if (options !== undefined && options !== null && !isObject(options)) {
    throw GatewayError.badRequest('invalid_type', "'stream_options' must be an object.", 'stream_options');
  }
  const clientWantsUsage = streaming && isObject(options) && options.include_usage === true;
  const user = typeof body.user === 'string' && body.user.length > 0 ? body.user : undefined;

  let upstreamBody = raw;
  if (streaming && !clientWantsUsage) {
    if (options === undefined) {
      const brace = raw.indexOf(0x7b); // '{': the first non-space byte of an object
      upstreamBody = Buffer.concat([raw.subarray(0, brace + 1), INCLUDE_USAGE, raw.subarray(brace + 1)]);
    } else {
      upstreamBody = Buffer.from(
        JSON.stringify({ ...body, stream_options: { ...(options ?? {}), include_usage: true } }),
      );
    }
  }
  return { model, stream: streaming, clientWantsUsage, ...(user ? { user } : {}), body, upstreamBody };
}
