// What differs between the OpenAI-compatible servers the simulator imitates: one dialect per engine
// (dialects/vllm.ts, dialects/sglang.ts) answers the routes of its own, words errors, shapes the
// responses and stream chunks, and names the metrics. engine.ts (the HTTP server, the scheduler, the
// requests) asks the dialect whenever bytes leave the engine.

import type { Histogram } from './metrics';
import type { EngineKind } from './types';

/** A request error: the dialect words the body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type GenerationKind = 'chat' | 'completion';
export type Finish = 'stop' | 'length';

/** One generation response as the dialect sees it while writing it. */
export interface ResponseState {
  kind: GenerationKind;
  id: string;
  created: number;
  model: string;
  /** Per choice: whether its first chunk (the role) was sent. */
  roleSent: boolean[];
}

export interface TokenUsage {
  prompt: number;
  completion: number;
}

export interface ChoiceResult {
  text: string;
  finish: Finish;
}

/** What the engine serves, for routes that describe it. */
export interface EngineView {
  model: string;
  servedModelNames: string[];
  maxModelLen: number;
  /** Unix seconds. */
  createdAt: number;
  healthy: boolean;
}

/** The engine's state when scraped. */
export interface MetricsView {
  running: number;
  waiting: number;
  kvCacheUsage: number;
  kvTokens: number;
  kvCacheTokens: number;
  promptTokens: number;
  generationTokens: number;
  success: Record<Finish | 'abort', number>;
  /** Requests finished (completed, aborted or failed). */
  requestsFinished: number;
  requestsAborted: number;
  /** Generated tokens per second, recently. */
  genThroughput: number;
  ttft: Histogram;
  tpot: Histogram;
  e2e: Histogram;
  queueTime: Histogram;
  /** Prompt tokens looked up in the prefix cache, and those found there. */
  prefixCacheQueries: number;
  prefixCacheHits: number;
}

export interface RouteAnswer {
  status: number;
  /** JSON text, or empty for a bodiless answer. */
  body: string;
}

export interface Dialect {
  readonly kind: EngineKind;
  /** `owned_by` of /v1/models. */
  readonly ownedBy: string;
  /** Histogram buckets of the engine's own collectors. */
  readonly buckets: {
    ttft: readonly number[];
    tpot: readonly number[];
    e2e: readonly number[];
    queue: readonly number[];
  };
  /** Whether `stream_options` without `stream: true` is refused. */
  readonly streamOptionsNeedStream: boolean;
  errorBody(status: number, message: string): string;
  /** GET routes of this engine beyond /health, /v1/models and /metrics; undefined: not one of them. */
  route(path: string, engine: EngineView): RouteAnswer | undefined;
  /** The `model` a response names; throws ApiError when the engine refuses the one asked for. */
  responseModel(requested: string | undefined, engine: EngineView): string;
  /** max_tokens when the request sets none; undefined: up to the context length. */
  defaultMaxTokens(kind: GenerationKind, configured: number): number | undefined;
  /** The message of the 400 for a prompt that leaves no room in the context. */
  contextError(promptTokens: number, maxModelLen: number, noun: 'messages' | 'prompt'): string;
  requestId(kind: GenerationKind | 'embedding'): string;
  modelsBody(engine: EngineView): string;
  /** The SSE events for one generated token of one choice (`finish`: it was the choice's last). */
  streamToken(r: ResponseState, choice: number, wordJson: string, finish: Finish | null): string;
  /** The SSE events after the last token of every choice, `data: [DONE]` included. */
  streamEnd(r: ResponseState, finishes: Finish[], usage: TokenUsage | null): string;
  /** A non-streamed generation response. */
  responseBody(r: ResponseState, choices: ChoiceResult[], usage: TokenUsage): string;
  embeddingsBody(
    id: string,
    created: number,
    model: string,
    data: { index: number; embedding: number[] | string }[],
    usage: TokenUsage,
  ): string;
  metricsText(m: MetricsView, modelName: string): string;
}

/** Starlette/FastAPI error type names by status, as both servers word them. */
export const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'UnauthorizedError',
  403: 'ForbiddenError',
  404: 'NotFoundError',
  408: 'RequestTimeoutError',
  413: 'PayloadTooLargeError',
  422: 'UnprocessableEntityError',
  429: 'RateLimitError',
  500: 'InternalServerError',
  501: 'NotImplementedError',
  502: 'BadGatewayError',
  503: 'ServiceUnavailableError',
  504: 'GatewayTimeoutError',
};

export function errorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequestError');
}
