// A simulated OpenAI-compatible engine server (vLLM's or SGLang's) on Node's http module. What the
// two differ in (routes, errors, response and chunk shapes, metric names) is asked of the engine's
// dialect (dialect.ts, dialects/*.ts); the capacity model, the requests and streams are shared.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiError,
  type Dialect,
  type EngineView,
  type Finish,
  type GenerationKind,
  type ResponseState,
} from './dialect';
import { SGLANG_DIALECT } from './dialects/sglang';
import { VLLM_DIALECT } from './dialects/vllm';
import { PrefixCache, PromptBlocks } from './prefix-cache';
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
import type { EngineFaults, EngineHandle, EngineKind, EngineOptions, EngineStats } from './types';

export { SIMULATED_VLLM_VERSION, errorBody } from './dialects/vllm';

const DIALECTS: Record<EngineKind, Dialect> = { vllm: VLLM_DIALECT, sglang: SGLANG_DIALECT };

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
  enableMetrics: boolean;
  /** 0 when prefix caching is off. */
  blockSize: number;
}

function sendJson(res: http.ServerResponse, status: number, body: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
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
  /** Prefix-cache block hashes (filled in when prefix caching is on). */
  blocks?: number[];
}

/** Block hashes of a completions or embeddings input: its words, or its token ids. */
function inputBlocks(v: unknown, blockSize: number): number[] {
  const b = new PromptBlocks(blockSize);
  if (typeof v === 'string') b.words(v);
  else if (Array.isArray(v)) for (const t of v) b.token(String(t));
  return b.hashes;
}

/** A completions or embeddings input: string | string[] | number[] | number[][]. */
function inputPrompts(v: unknown, field: string, allowEmpty: boolean, blockSize = 0): Prompt[] {
  const one = (x: unknown): Prompt | null => {
    const blocks = blockSize > 0 ? inputBlocks(x, blockSize) : undefined;
    if (typeof x === 'string') return { key: x, tokens: countWords(x), blocks };
    if (Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === 'number' && Number.isInteger(t))) {
      return { key: x.join(' '), tokens: x.length, blocks };
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

function sampling(body: Obj, streamOptionsNeedStream: boolean): Sampling {
  const maxTokens = optInt(body, 'max_completion_tokens', 1) ?? optInt(body, 'max_tokens', 1);
  const n = optInt(body, 'n', 1) ?? 1;
  if (n > MAX_CHOICES) throw new ApiError(400, `n must be at most ${MAX_CHOICES}, got ${n}.`);
  const stream = optBool(body, 'stream') ?? false;
  const so = body.stream_options;
  if (so !== undefined && so !== null) {
    if (!isObj(so)) throw new ApiError(400, 'stream_options: Input should be a valid dictionary');
    if (!stream && streamOptionsNeedStream)
      throw new ApiError(400, 'Stream options can only be defined when `stream=True`.');
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

/** One HTTP generation request: one or more choices (prompts x n), each a scheduler sequence. */
interface Job extends ResponseState {
  res: http.ServerResponse;
  stream: boolean;
  includeUsage: boolean;
  seqs: Sequence[];
  /** Per choice: generated words (non-streaming only) and finish reason. */
  texts: string[][];
  reasons: (string | null)[];
  completionTokens: number[];
  promptTokens: number;
  remaining: number;
  contentChunks: number;
  /** Response ended (completed, aborted, cut): no more writes. */
  over: boolean;
}

class Engine {
  readonly cfg: Config;
  readonly dialect: Dialect;
  faults: EngineFaults;
  readonly scheduler: Scheduler;
  readonly server: http.Server;
  private readonly jobs = new Set<Job>();
  private readonly requestStats = { finished: 0, aborted: 0, failed: 0 };
  private readonly createdAt = Math.floor(Date.now() / 1000);
  /** Generation throughput: the counter when last measured, and the rate then. */
  private throughput = { at: performance.now(), tokens: 0, rate: 0 };

  constructor(opts: EngineOptions) {
    const positive = (v: number | undefined, d: number, name: string, allowZero = false): number => {
      const x = v ?? d;
      if (!Number.isFinite(x) || x < 0 || (!allowZero && x === 0))
        throw new Error(`engine-sim: invalid ${name}: ${v}`);
      return x;
    };
    const servedModelNames = opts.servedModelNames?.length ? [...opts.servedModelNames] : [opts.model];
    const dialect = DIALECTS[opts.kind ?? 'vllm'];
    if (!dialect) throw new Error(`engine-sim: unknown engine kind: ${String(opts.kind)}`);
    this.dialect = dialect;
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
      enableMetrics: opts.enableMetrics ?? true,
      blockSize:
        opts.enablePrefixCaching === false ? 0 : Math.floor(positive(opts.blockSize, 16, 'blockSize')),
    };
    this.faults = { ...DEFAULT_FAULTS, ...opts.faults };
    this.scheduler = new Scheduler(
      this.cfg.maxNumSeqs,
      this.cfg.kvCacheTokens,
      () => this.timing(),
      dialect.buckets,
      this.cfg.blockSize > 0
        ? new PrefixCache(this.cfg.blockSize, Math.floor(this.cfg.kvCacheTokens / this.cfg.blockSize))
        : null,
    );
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
      prefixCacheQueries: c.prefixQueries,
      prefixCacheHits: c.prefixHits,
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
        if (!get) return this.methodNotAllowed(res);
        res.writeHead(this.faults.unhealthy ? 503 : 200, { 'content-length': 0 });
        res.end();
        return;
      case '/v1/models':
        if (!get) return this.methodNotAllowed(res);
        return sendJson(res, 200, this.dialect.modelsBody(this.view()));
      case '/metrics': {
        if (!this.cfg.enableMetrics) break;
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
    }
    // vLLM's /ping also answers POST (SageMaker's contract).
    const own =
      get || (path === '/ping' && method === 'POST') ? this.dialect.route(path, this.view()) : undefined;
    if (own) {
      if (own.body === '') {
        res.writeHead(own.status, { 'content-length': 0 });
        res.end();
      } else sendJson(res, own.status, own.body);
      return;
    }
    if (this.dialect.route(path, this.view())) return this.methodNotAllowed(res);
    sendJson(res, 404, '{"detail":"Not Found"}');
  }

  private view(): EngineView {
    return {
      model: this.cfg.model,
      servedModelNames: this.cfg.servedModelNames,
      maxModelLen: this.cfg.maxModelLen,
      createdAt: this.createdAt,
      healthy: !this.faults.unhealthy,
    };
  }

  private sendError(res: http.ServerResponse, status: number, message: string): void {
    sendJson(res, status, this.dialect.errorBody(status, message));
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
        this.sendError(res, 413, `Request body larger than ${MAX_BODY_BYTES} bytes`);
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
        this.sendError(res, 400, `JSON decode error: ${(e as Error).message}`);
        return;
      }
      if (!isObj(body)) {
        this.sendError(res, 400, 'Input should be a valid dictionary or object to extract fields from');
        return;
      }
      try {
        then(body);
      } catch (e) {
        if (e instanceof ApiError) this.sendError(res, e.status, e.message);
        else this.sendError(res, 500, (e as Error).message);
      }
    });
  }

  // ---- metrics ----

  private metrics(): string {
    const s = this.scheduler;
    const c = s.counters;
    const now = performance.now();
    // Tokens per second since the last measurement, at most once a second (as a decode log interval).
    if (now - this.throughput.at >= 1000) {
      this.throughput = {
        at: now,
        tokens: c.generationTokens,
        rate: ((c.generationTokens - this.throughput.tokens) * 1000) / (now - this.throughput.at),
      };
    }
    return this.dialect.metricsText(
      {
        running: s.running,
        waiting: s.waitingCount,
        kvCacheUsage: s.kvCacheUsage,
        kvTokens: s.kvTokensUsed,
        kvCacheTokens: this.cfg.kvCacheTokens,
        promptTokens: c.promptTokens,
        generationTokens: c.generationTokens,
        success: c.success,
        requestsFinished: this.requestStats.finished,
        requestsAborted: this.requestStats.aborted,
        genThroughput: this.throughput.rate,
        ttft: s.ttft,
        tpot: s.tpot,
        e2e: s.e2e,
        queueTime: s.queueTime,
        prefixCacheQueries: c.prefixQueries,
        prefixCacheHits: c.prefixHits,
      },
      this.cfg.servedModelNames[0],
    );
  }

  // ---- shared request checks ----

  /** The model a response names (the dialect decides whether an unknown one is refused). */
  private modelName(body: Obj): string {
    const m = body.model;
    if (m !== undefined && m !== null && typeof m !== 'string')
      throw new ApiError(400, 'model: Input should be a valid string');
    return this.dialect.responseModel(m ?? undefined, this.view());
  }

  /** 400 when a prompt leaves no room (generation: >= 1 token) in the context. */
  private checkContext(tokens: number, noun: 'messages' | 'prompt', room: number): void {
    if (tokens + room > this.cfg.maxModelLen) {
      throw new ApiError(400, this.dialect.contextError(tokens, this.cfg.maxModelLen, noun));
    }
  }

  /** Applies the errorRate fault; true when an error was sent. */
  private injectedError(res: http.ServerResponse): boolean {
    const { errorRate, errorStatus } = this.faults;
    if (errorRate > 0 && Math.random() < errorRate) {
      this.requestStats.finished++;
      this.requestStats.failed++;
      this.sendError(res, errorStatus, `Injected fault: engine-sim answers ${errorStatus}`);
      return true;
    }
    return false;
  }

  // ---- generation (chat and completions) ----

  private generate(kind: GenerationKind, body: Obj, res: http.ServerResponse): void {
    const model = this.modelName(body);
    const sp = sampling(body, this.dialect.streamOptionsNeedStream);
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
      // The chat template as the engine would render it: per message TOKENS_PER_MESSAGE marker
      // tokens around its words, then TOKENS_PER_REPLY for the assistant's turn.
      const blocks = this.cfg.blockSize > 0 ? new PromptBlocks(this.cfg.blockSize) : null;
      messages.forEach((m, i) => {
        if (!isObj(m) || typeof m.role !== 'string')
          throw new ApiError(400, `messages.${i}.role: Field required`);
        const text = messageText(m.content, i);
        tokens += TOKENS_PER_MESSAGE + countWords(text);
        parts.push(`${m.role}\u0000${text}`);
        if (blocks) {
          blocks.token('<|im_start|>');
          blocks.token(m.role);
          blocks.token('\n');
          blocks.words(text);
          blocks.token('<|im_end|>');
        }
      });
      if (blocks) {
        blocks.token('<|im_start|>');
        blocks.token('assistant');
        blocks.token('\n');
      }
      prompts = [{ key: parts.join('\u0001'), tokens, blocks: blocks?.hashes }];
      promptTokenCounts = [tokens];
    } else {
      prompts = inputPrompts(body.prompt, 'prompt', false, this.cfg.blockSize);
      promptTokenCounts = prompts.map((p) => p.tokens);
    }
    for (const p of prompts) this.checkContext(p.tokens, kind === 'chat' ? 'messages' : 'prompt', 1);
    if (this.injectedError(res)) return;

    const created = Math.floor(Date.now() / 1000);
    const choices = prompts.length * sp.n;
    const job: Job = {
      kind,
      res,
      id: this.dialect.requestId(kind),
      created,
      model,
      roleSent: new Array<boolean>(choices).fill(false),
      stream: sp.stream,
      includeUsage: sp.includeUsage,
      seqs: [],
      texts: [],
      reasons: [],
      completionTokens: [],
      promptTokens: promptTokenCounts.reduce((a, b) => a + b, 0),
      remaining: 0,
      contentChunks: 0,
      over: false,
    };
    const eosP = sp.ignoreEos ? 0 : this.cfg.eosProbability;
    const defaultMax = this.dialect.defaultMaxTokens(kind, this.cfg.defaultMaxTokens);
    let index = 0;
    for (const p of prompts) {
      const room = this.cfg.maxModelLen - p.tokens;
      const maxTokens = Math.min(sp.maxTokens ?? defaultMax ?? room, room);
      for (let j = 0; j < sp.n; j++) {
        const choice = index++;
        const rand = prng(outputSeed(p.key, sp.seed, j));
        job.texts.push([]);
        job.reasons.push(null);
        job.completionTokens.push(0);
        const seq = new Sequence(
          p.tokens,
          maxTokens,
          {
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
          },
          p.blocks,
        );
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

  private onToken(job: Job, choice: number, word: number, reason: Finish | null): void {
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
    const out = this.dialect.streamToken(job, choice, VOCABULARY_JSON[word], reason);
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
    const usage = { prompt: job.promptTokens, completion: job.completionTokens.reduce((a, b) => a + b, 0) };
    const res = job.res;
    if (res.destroyed) return;
    const finishes = job.reasons as Finish[];
    if (job.stream) {
      res.end(this.dialect.streamEnd(job, finishes, job.includeUsage ? usage : null));
      return;
    }
    const choices = job.texts.map((words, i) => ({ text: words.join(''), finish: finishes[i] }));
    sendJson(res, 200, this.dialect.responseBody(job, choices, usage));
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
      id: this.dialect.requestId('embedding'),
      created: Math.floor(Date.now() / 1000),
      model,
      roleSent: [],
      stream: false,
      includeUsage: false,
      seqs: [],
      texts: [],
      reasons: [],
      completionTokens: [],
      promptTokens: prompts.reduce((a, p) => a + p.tokens, 0),
      remaining: prompts.length,
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
        return { index, embedding: format === 'base64' ? embeddingToBase64(v) : v };
      });
      const usage = { prompt: job.promptTokens, completion: 0 };
      sendJson(res, 200, this.dialect.embeddingsBody(job.id, job.created, model, data, usage));
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
    kind: engine.dialect.kind,
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
