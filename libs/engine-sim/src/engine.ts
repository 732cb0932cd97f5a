// A simulated vLLM OpenAI-compatible server on Node's http module.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Exposition } from './metrics';
import { Scheduler, Sequence, type FinishReason, type Timing } from './scheduler';
import {
  countWords,
  embed,
  embeddingToBase64,
  outputSeed,
  prng,
  VOCABULARY,
  VOCABULARY_JSON,
} from './tokens';
import type { EngineFaults, EngineHandle, EngineOptions, EngineStats } from './types';

/** Version reported by GET /version. */
export const SIMULATED_VLLM_VERSION = '0.11.0';

const DEFAULT_FAULTS: EngineFaults = {
  slowFactor: 1,
  errorRate: 0,
  errorStatus: 500,
  cutStreamsAfterChunks: null,
  unhealthy: false,
};

/** Largest request body read; bigger ones get 413. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Chat template overhead, in tokens: per message and for the assistant prefix. */
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;
const MAX_CHOICES = 128;

interface Config {
  model: string;
  servedModelNames: string[];
  maxNumSeqs: number;
  tpotMs: number;
  ttftMs: number;
  prefillMsPerToken: number;
  kvCacheTokens: number;
  maxModelLen: number;
  eosProbability: number;
  defaultMaxTokens: number;
  embeddingDim: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ERROR_TYPES: Record<number, string> = {
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

/** vLLM's error body: {"error": {"message", "type", "param", "code"}}. */
export function errorBody(status: number, message: string): string {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequestError');
  return JSON.stringify({ error: { message, type, param: null, code: status } });
}

function sendJson(res: http.ServerResponse, status: number, body: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  sendJson(res, status, errorBody(status, message));
}

// ---- request validation ----

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optInt(body: Obj, key: string, min: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new ApiError(400, `${key}: Input should be a valid integer`);
  if (v < min) throw new ApiError(400, `${key} must be at least ${min}, got ${v}.`);
  return v;
}

function optBool(body: Obj, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ApiError(400, `${key}: Input should be a valid boolean`);
  return v;
}

function optNumber(body: Obj, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ApiError(400, `${key}: Input should be a valid number`);
  return v;
}

/** Text of a chat message's content: a string, null, or an array of parts ({type: "text", text}). */
function messageText(content: unknown, i: number): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const texts: string[] = [];
    for (const part of content) {
      if (typeof part === 'string') texts.push(part);
      else if (isObj(part) && typeof part.text === 'string') texts.push(part.text);
      else if (!isObj(part) || typeof part.type !== 'string') {
        throw new ApiError(400, `messages.${i}.content: Input should be a valid list of content parts`);
      }
    }
    return texts.join('\n');
  }
  throw new ApiError(400, `messages.${i}.content: Input should be a valid string`);
}

interface Prompt {
  key: string;
  tokens: number;
}

/** A completions or embeddings input: string | string[] | number[] | number[][]. */
function inputPrompts(v: unknown, field: string, allowEmpty: boolean): Prompt[] {
  const one = (x: unknown): Prompt | null => {
    if (typeof x === 'string') return { key: x, tokens: countWords(x) };
    if (Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === 'number' && Number.isInteger(t))) {
      return { key: x.join(' '), tokens: x.length };
    }
    return null;
  };
  if (v === undefined || v === null) throw new ApiError(400, `${field}: Field required`);
  const single = one(v);
  let prompts: Prompt[];
  if (single) prompts = [single];
  else if (Array.isArray(v) && v.length > 0) {
    prompts = v.map((x) => {
      const p = one(x);
      if (!p)
        throw new ApiError(
          400,
          `${field}: Input should be a string, a list of strings or a list of token ids`,
        );
      return p;
    });
  } else
    throw new ApiError(400, `${field}: Input should be a string, a list of strings or a list of token ids`);
  if (!allowEmpty && prompts.some((p) => p.tokens === 0))
    throw new ApiError(400, 'The decoder prompt cannot be empty');
  return prompts;
}

interface Sampling {
  maxTokens: number | undefined;
  minTokens: number;
  ignoreEos: boolean;
  seed: number | undefined;
  n: number;
  stream: boolean;
  includeUsage: boolean;
}

function sampling(body: Obj): Sampling {
  const maxTokens = optInt(body, 'max_completion_tokens', 1) ?? optInt(body, 'max_tokens', 1);
  const n = optInt(body, 'n', 1) ?? 1;
  if (n > MAX_CHOICES) throw new ApiError(400, `n must be at most ${MAX_CHOICES}, got ${n}.`);
  const stream = optBool(body, 'stream') ?? false;
  const so = body.stream_options;
  if (so !== undefined && so !== null) {
    if (!isObj(so)) throw new ApiError(400, 'stream_options: Input should be a valid dictionary');
    if (!stream) throw new ApiError(400, 'Stream options can only be defined when `stream=True`.');
  }
  const includeUsage = isObj(so) && so.include_usage === true;
  optNumber(body, 'temperature');
  optNumber(body, 'top_p');
  return {
    maxTokens,
    minTokens: optInt(body, 'min_tokens', 0) ?? 0,
    ignoreEos: optBool(body, 'ignore_eos') ?? false,
    seed: optInt(body, 'seed', -(2 ** 63)),
    n,
    stream,
    includeUsage,
  };
}

// ---- the engine ----

type Kind = 'chat' | 'completion';

/** One HTTP generation request: one or more choices (prompts x n), each a scheduler sequence. */
interface Job {
  kind: Kind;
  res: http.ServerResponse;
  id: string;
  created: number;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  seqs: Sequence[];
  /** Per choice: generated words (non-streaming only) and finish reason. */
  texts: string[][];
  reasons: (string | null)[];
  completionTokens: number[];
  promptTokens: number;
  remaining: number;
  /** Role chunks sent (streaming chat). */
  started: boolean;
  contentChunks: number;
  /** Response ended (completed, aborted, cut): no more writes. */
  over: boolean;
}

class Engine {
  readonly cfg: Config;
  faults: EngineFaults;
  readonly scheduler: Scheduler;
  readonly server: http.Server;
  private readonly jobs = new Set<Job>();
  private readonly requestStats = { finished: 0, aborted: 0, failed: 0 };
  private readonly createdAt = Math.floor(Date.now() / 1000);

  constructor(opts: EngineOptions) {
    const positive = (v: number | undefined, d: number, name: string, allowZero = false): number => {
      const x = v ?? d;
      if (!Number.isFinite(x) || x < 0 || (!allowZero && x === 0))
        throw new Error(`engine-sim: invalid ${name}: ${v}`);
      return x;
    };
    const servedModelNames = opts.servedModelNames?.length ? [...opts.servedModelNames] : [opts.model];
    this.cfg = {
      model: opts.model,
      servedModelNames,
      maxNumSeqs: Math.floor(positive(opts.maxNumSeqs, 256, 'maxNumSeqs')),
      tpotMs: positive(opts.tpotMs, 10, 'tpotMs', true),
      ttftMs: positive(opts.ttftMs, 20, 'ttftMs', true),
      prefillMsPerToken: positive(opts.prefillMsPerToken, 0.05, 'prefillMsPerToken', true),
      kvCacheTokens: positive(opts.kvCacheTokens, 65536, 'kvCacheTokens'),
      maxModelLen: Math.floor(positive(opts.maxModelLen, 4096, 'maxModelLen')),
      eosProbability: Math.min(1, positive(opts.eosProbability, 0.005, 'eosProbability', true)),
      defaultMaxTokens: Math.floor(positive(opts.defaultMaxTokens, 16, 'defaultMaxTokens')),
      embeddingDim: Math.floor(positive(opts.embeddingDim, 64, 'embeddingDim')),
    };
    this.faults = { ...DEFAULT_FAULTS, ...opts.faults };
    this.scheduler = new Scheduler(this.cfg.maxNumSeqs, this.cfg.kvCacheTokens, () => this.timing());
    this.server = http.createServer({ keepAliveTimeout: 5000, noDelay: true }, (req, res) =>
      this.handle(req, res),
    );
  }

  private timing(): Timing {
    const slow = this.faults.slowFactor;
    return {
      tpotMs: this.cfg.tpotMs,
      ttftMs: this.cfg.ttftMs,
      prefillMsPerToken: this.cfg.prefillMsPerToken,
      slowFactor: Number.isFinite(slow) && slow > 0 ? slow : 1,
    };
  }

  setFaults(f: Partial<EngineFaults>): void {
    const next = { ...this.faults };
    for (const [k, v] of Object.entries(f) as [keyof EngineFaults, unknown][]) {
      if (v !== undefined) (next as Record<keyof EngineFaults, unknown>)[k] = v;
    }
    this.faults = next;
  }

  stats(): EngineStats {
    const c = this.scheduler.counters;
    return {
      running: this.scheduler.running,
      waiting: this.scheduler.waitingCount,
      finished: this.requestStats.finished,
      aborted: this.requestStats.aborted,
      failed: this.requestStats.failed,
      promptTokens: c.promptTokens,
      generationTokens: c.generationTokens,
      kvCacheUsage: this.scheduler.kvCacheUsage,
    };
  }

  /** Aborts every job and stops the scheduler. */
  shutdown(): void {
    for (const job of [...this.jobs]) this.endJob(job, 'abort');
    this.scheduler.close();
  }

  // ---- routing ----

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.on('error', () => undefined);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const method = req.method ?? 'GET';
    const get = method === 'GET' || method === 'HEAD';
    switch (path) {
      case '/health':
      case '/ping':
        if (!get && !(path === '/ping' && method === 'POST')) return this.methodNotAllowed(res);
        res.writeHead(this.faults.unhealthy ? 503 : 200, { 'content-length': 0 });
        res.end();
        return;
      case '/v1/models':
        if (!get) return this.methodNotAllowed(res);
        return sendJson(res, 200, this.models());
      case '/version':
        if (!get) return this.methodNotAllowed(res);
        return sendJson(res, 200, JSON.stringify({ version: SIMULATED_VLLM_VERSION }));
      case '/metrics': {
        if (!get) return this.methodNotAllowed(res);
        const text = this.metrics();
        res.writeHead(200, {
          'content-type': 'text/plain; version=0.0.4; charset=utf-8',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
        return;
      }
      case '/v1/chat/completions':
      case '/v1/completions':
      case '/v1/embeddings':
        if (method !== 'POST') return this.methodNotAllowed(res);
        return this.readJson(req, res, (body) => {
          if (path === '/v1/embeddings') this.embeddings(body, res);
          else this.generate(path === '/v1/chat/completions' ? 'chat' : 'completion', body, res);
        });
      default:
        sendJson(res, 404, '{"detail":"Not Found"}');
    }
  }

  private methodNotAllowed(res: http.ServerResponse): void {
    sendJson(res, 405, '{"detail":"Method Not Allowed"}');
  }

  private readJson(req: http.IncomingMessage, res: http.ServerResponse, then: (body: Obj) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      if (tooLarge) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        sendError(res, 413, `Request body larger than ${MAX_BODY_BYTES} bytes`);
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (tooLarge || res.destroyed) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        sendError(res, 400, `JSON decode error: ${(e as Error).message}`);
        return;
      }
      if (!isObj(body)) {
        sendError(res, 400, 'Input should be a valid dictionary or object to extract fields from');
        return;
      }
      try {
        then(body);
      } catch (e) {
        if (e instanceof ApiError) sendError(res, e.status, e.message);
        else sendError(res, 500, (e as Error).message);
      }
    });
  }

  // ---- simple endpoints ----

  private models(): string {
    const data = this.cfg.servedModelNames.map((id) => ({
      id,
      object: 'model',
      created: this.createdAt,
      owned_by: 'vllm',
      root: this.cfg.model,
      parent: null,
      max_model_len: this.cfg.maxModelLen,
      permission: [
        {
          id: `modelperm-${randomUUID().replace(/-/g, '')}`,
          object: 'model_permission',
          created: this.createdAt,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: '*',
          group: null,
          is_blocking: false,
        },
      ],
    }));
    return JSON.stringify({ object: 'list', data });
  }

  private metrics(): string {
    const s = this.scheduler;
    const c = s.counters;
    return new Exposition({ engine: '0', model_name: this.cfg.servedModelNames[0] })
      .gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', s.running)
      .gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', s.waitingCount)
      .gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', s.kvCacheUsage)
      .counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', [{ value: c.promptTokens }])
      .counter('vllm:generation_tokens_total', 'Number of generation tokens processed.', [
        { value: c.generationTokens },
      ])
      .counter(
        'vllm:request_success_total',
        'Count of successfully processed requests.',
        (['stop', 'length', 'abort'] as const).map((r) => ({
          labels: { finished_reason: r },
          value: c.success[r],
        })),
      )
      .histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', s.ttft)
      .histogram(
        'vllm:time_per_output_token_seconds',
        'Histogram of time per output token in seconds.',
        s.tpot,
      )
      .histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', s.e2e)
      .histogram(
        'vllm:request_queue_time_seconds',
        'Histogram of time spent in WAITING phase for request.',
        s.queueTime,
      )
      .text();
  }

  // ---- shared request checks ----

  /** The served name asked for, or a 404 like vLLM's. */
  private modelName(body: Obj): string {
    const m = body.model;
    if (m === undefined || m === null) return this.cfg.servedModelNames[0];
    if (typeof m !== 'string') throw new ApiError(400, 'model: Input should be a valid string');
    if (!this.cfg.servedModelNames.includes(m)) throw new ApiError(404, `The model \`${m}\` does not exist.`);
    return m;
  }

  /** 400 like vLLM when a prompt leaves no room (generation: >= 1 token) in the context. */
  private checkContext(tokens: number, noun: string, room: number): void {
    if (tokens + room > this.cfg.maxModelLen) {
      throw new ApiError(
        400,
        `This model's maximum context length is ${this.cfg.maxModelLen} tokens. However, your request has ` +
          `${tokens} input tokens. Please reduce the length of the input ${noun}.`,
      );
    }
  }

  /** Applies the errorRate fault; true when an error was sent. */
  private injectedError(res: http.ServerResponse): boolean {
    const { errorRate, errorStatus } = this.faults;
    if (errorRate > 0 && Math.random() < errorRate) {
      this.requestStats.finished++;
      this.requestStats.failed++;
      sendError(res, errorStatus, `Injected fault: engine-sim answers ${errorStatus}`);
      return true;
    }
    return false;
  }

  // ---- generation (chat and completions) ----

  private generate(kind: Kind, body: Obj, res: http.ServerResponse): void {
    const model = this.modelName(body);
    const sp = sampling(body);
    let prompts: Prompt[];
    let promptTokenCounts: number[];
    if (kind === 'chat') {
      const messages = body.messages;
      if (messages === undefined || messages === null) throw new ApiError(400, 'messages: Field required');
      if (!Array.isArray(messages) || messages.length === 0) {
        throw new ApiError(400, 'messages: Input should be a non-empty list of messages');
      }
      let tokens = TOKENS_PER_REPLY;
      const parts: string[] = [];
      messages.forEach((m, i) => {
        if (!isObj(m) || typeof m.role !== 'string')
          throw new ApiError(400, `messages.${i}.role: Field required`);
        const text = messageText(m.content, i);
        tokens += TOKENS_PER_MESSAGE + countWords(text);
        parts.push(`${m.role}\u0000${text}`);
      });
      prompts = [{ key: parts.join('\u0001'), tokens }];
      promptTokenCounts = [tokens];
    } else {
      prompts = inputPrompts(body.prompt, 'prompt', false);
      promptTokenCounts = prompts.map((p) => p.tokens);
    }
    for (const p of prompts) this.checkContext(p.tokens, kind === 'chat' ? 'messages' : 'prompt', 1);
    if (this.injectedError(res)) return;

    const created = Math.floor(Date.now() / 1000);
    const job: Job = {
      kind,
      res,
      id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replace(/-/g, '')}`,
      created,
      model,
      stream: sp.stream,
      includeUsage: sp.includeUsage,
      seqs: [],
      texts: [],
      reasons: [],
      completionTokens: [],
      promptTokens: promptTokenCounts.reduce((a, b) => a + b, 0),
      remaining: 0,
      started: false,
      contentChunks: 0,
      over: false,
    };
    const eosP = sp.ignoreEos ? 0 : this.cfg.eosProbability;
    let index = 0;
    for (const p of prompts) {
      const maxTokens = Math.min(sp.maxTokens ?? this.cfg.defaultMaxTokens, this.cfg.maxModelLen - p.tokens);
      for (let j = 0; j < sp.n; j++) {
        const choice = index++;
        const rand = prng(outputSeed(p.key, sp.seed, j));
        job.texts.push([]);
        job.reasons.push(null);
        job.completionTokens.push(0);
        const seq = new Sequence(p.tokens, maxTokens, {
          onToken: (i) => {
            const word = Math.floor(rand() * VOCABULARY.length);
            const eos = rand() < eosP;
            let reason: 'stop' | 'length' | null = null;
            if (i + 1 >= maxTokens) reason = 'length';
            else if (eos && i + 1 >= sp.minTokens) reason = 'stop';
            this.onToken(job, choice, word, reason);
            return reason;
          },
          onFinish: (reason) => this.onSeqFinish(job, choice, reason),
        });
        job.seqs.push(seq);
      }
    }
    job.remaining = job.seqs.length;
    this.startJob(job);
    if (job.stream) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
      });
      res.flushHeaders();
    }
    for (const seq of job.seqs) this.scheduler.submit(seq);
  }

  private startJob(job: Job): void {
    this.jobs.add(job);
    job.res.on('close', () => {
      if (!job.over) this.endJob(job, 'abort');
    });
  }

  /**
   * Ends a job before its sequences finished: client gone ('abort') or stream cut ('error'). `destroy`
   * (default: at once) ends the connection.
   */
  private endJob(job: Job, reason: 'abort' | 'error', destroy?: (res: http.ServerResponse) => void): void {
    if (job.over) return;
    job.over = true;
    this.jobs.delete(job);
    this.requestStats.finished++;
    if (reason === 'abort') this.requestStats.aborted++;
    else this.requestStats.failed++;
    for (const seq of job.seqs) this.scheduler.cancel(seq, reason);
    if (job.res.destroyed) return;
    if (destroy) destroy(job.res);
    else job.res.destroy();
  }

  private chunkPrefix(job: Job): string {
    const object = job.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    return `data: {"id":"${job.id}","object":"${object}","created":${job.created},"model":${JSON.stringify(job.model)},"choices":[`;
  }

  private onToken(job: Job, choice: number, word: number, reason: 'stop' | 'length' | null): void {
    if (job.over) return;
    job.completionTokens[choice]++;
    if (!job.stream) {
      job.texts[choice].push(VOCABULARY[word]);
      return;
    }
    const cut = this.faults.cutStreamsAfterChunks;
    if (cut !== null && job.contentChunks >= cut) return this.endJob(job, 'error');
    const res = job.res;
    if (res.destroyed) return;
    const prefix = this.chunkPrefix(job);
    let out = '';
    if (!job.started) {
      job.started = true;
      if (job.kind === 'chat') {
        for (let i = 0; i < job.seqs.length; i++) {
          out += `${prefix}{"index":${i},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`;
        }
      }
    }
    const finish =
      reason === null ? '"finish_reason":null' : `"finish_reason":"${reason}","stop_reason":null`;
    if (job.kind === 'chat') {
      out += `${prefix}{"index":${choice},"delta":{"content":${VOCABULARY_JSON[word]}},"logprobs":null,${finish}}]}\n\n`;
    } else {
      out += `${prefix}{"index":${choice},"text":${VOCABULARY_JSON[word]},"logprobs":null,${finish}${reason === null ? ',"stop_reason":null' : ''}}]}\n\n`;
    }
    job.contentChunks++;
    if (cut !== null && job.contentChunks >= cut) {
      // Cut once the last chunk has reached the socket.
      this.endJob(job, 'error', (r) => r.write(out, () => r.destroy()));
    } else res.write(out);
  }

  private onSeqFinish(job: Job, choice: number, reason: FinishReason): void {
    if (job.over || (reason !== 'stop' && reason !== 'length')) return;
    job.reasons[choice] = reason;
    if (--job.remaining > 0) return;
    job.over = true;
    this.jobs.delete(job);
    this.requestStats.finished++;
    const completion = job.completionTokens.reduce((a, b) => a + b, 0);
    const usage = {
      prompt_tokens: job.promptTokens,
      total_tokens: job.promptTokens + completion,
      completion_tokens: completion,
      prompt_tokens_details: null,
    };
    const res = job.res;
    if (res.destroyed) return;
    if (job.stream) {
      let out = '';
      if (job.includeUsage) out += `${this.chunkPrefix(job)}],"usage":${JSON.stringify(usage)}}\n\n`;
      res.end(`${out}data: [DONE]\n\n`);
      return;
    }
    const base = {
      id: job.id,
      object: job.kind === 'chat' ? 'chat.completion' : 'text_completion',
      created: job.created,
      model: job.model,
    };
    const choices = job.texts.map((words, index) => {
      const text = words.join('');
      return job.kind === 'chat'
        ? {
            index,
            message: { role: 'assistant', content: text, tool_calls: [] },
            logprobs: null,
            finish_reason: job.reasons[index],
            stop_reason: null,
          }
        : {
            index,
            text,
            logprobs: null,
            finish_reason: job.reasons[index],
            stop_reason: null,
            prompt_logprobs: null,
          };
    });
    sendJson(res, 200, JSON.stringify({ ...base, choices, usage }));
  }

  // ---- embeddings ----

  private embeddings(body: Obj, res: http.ServerResponse): void {
    const model = this.modelName(body);
    const prompts = inputPrompts(body.input, 'input', true);
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') {
      throw new ApiError(400, "encoding_format: Input should be 'float' or 'base64'");
    }
    const dim = optInt(body, 'dimensions', 1) ?? this.cfg.embeddingDim;
    for (const p of prompts) this.checkContext(p.tokens, 'prompt', 0);
    if (this.injectedError(res)) return;
    const job: Job = {
      kind: 'completion',
      res,
      id: `embd-${randomUUID().replace(/-/g, '')}`,
      created: Math.floor(Date.now() / 1000),
      model,
      stream: false,
      includeUsage: false,
      seqs: [],
      texts: [],
      reasons: [],
      completionTokens: [],
      promptTokens: prompts.reduce((a, p) => a + p.tokens, 0),
      remaining: prompts.length,
      started: false,
      contentChunks: 0,
      over: false,
    };
    const onFinish = (reason: FinishReason): void => {
      if (job.over || reason !== 'stop' || --job.remaining > 0) return;
      job.over = true;
      this.jobs.delete(job);
      this.requestStats.finished++;
      const data = prompts.map((p, index) => {
        const v = embed(p.key, dim);
        return { index, object: 'embedding', embedding: format === 'base64' ? embeddingToBase64(v) : v };
      });
      const usage = {
        prompt_tokens: job.promptTokens,
        total_tokens: job.promptTokens,
        completion_tokens: 0,
        prompt_tokens_details: null,
      };
      sendJson(
        res,
        200,
        JSON.stringify({ id: job.id, object: 'list', created: job.created, model, data, usage }),
      );
    };
    for (const p of prompts) {
      job.seqs.push(new Sequence(p.tokens, 0, { onToken: () => null, onFinish }));
    }
    this.startJob(job);
    for (const seq of job.seqs) this.scheduler.submit(seq);
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts a simulated vLLM OpenAI server; resolves once it listens. */
export async function startEngine(opts: EngineOptions): Promise<EngineHandle> {
  const engine = new Engine(opts);
  const server = engine.server;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost(opts.host)}:${port}`,
    host: opts.host,
    port,
    servedModelNames: [...engine.cfg.servedModelNames],
    setFaults: (f) => engine.setFaults(f),
    stats: () => engine.stats(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        engine.shutdown();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
