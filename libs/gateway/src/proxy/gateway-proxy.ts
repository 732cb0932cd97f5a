import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { AuthService, bearerToken, Principal } from '@troupe/core';
import type { Dispatcher } from 'undici';
import { LoadTracker } from '../hold/load-tracker';
import { GatewayLimiter } from '../limits/gateway-limiter';
import type { CallerRef } from '../limits/limits.types';
import { UsageRecorder } from '../usage/usage-recorder';
import { HoldQueue } from '../hold/hold-queue';
import { GatewayMetrics, ServiceMetrics } from '../metrics/gateway-metrics';
import { pickCacheAware } from '../picker/cache-aware';
import { pickEndpoint } from '../picker/picker';
import { promptBlocks } from '../picker/prompt-prefix';
import { RoutingTable, UpstreamEndpoint } from '../routing/routing-table';
import { PROJECT_HEADER, resolveService, ServiceEntry } from '../routing/service-entry';
import { ServiceTable } from '../routing/service-table';
import { GatewayError } from './gateway-error';
import { OpenAiEndpoint, parseRequest, ParsedRequest } from './request-body';
import { UpstreamAgent } from './upstream';
import { openAiErrorBody } from './error-body';
import { SseRelay, usageFromJsonText, UsageTail } from './usage';

/** A request as the route hands it over: the body is read (bounded by GATEWAY_BODY_LIMIT_BYTES). */
export interface GatewayRequest {
  id: string;
  headers: IncomingHttpHeaders;
  body: Buffer | undefined;
  /** `performance.now()` when the request arrived. */
  receivedAt: number;
}

/** Status recorded for a request whose client went away (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

/** Errors before any response byte that make another group worth trying: the engine is unreachable. */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * A non-streamed answer whose announced length is at most this is sent to the client in one write
 * (head and body together) once complete: engines send such bodies in one piece anyway, and one
 * syscall instead of several is most of what a proxy costs.
 */
const WHOLE_BODY_MAX_BYTES = 1 << 20;

class UpstreamTimeout extends Error {
  constructor(readonly phase: 'first byte' | 'idle') {
    super(phase);
  }
}
class ClientGone extends Error {}

/**
 * The hot path: key from the in-memory auth cache, body parsed once, `model` resolved from the
 * in-memory service table, admission by the limits, a ready group picked, the caller's bytes sent to
 * its leader and the answer relayed as it arrives. No database query; one Redis round trip (limits).
 */
@Injectable()
export class GatewayProxy {
  readonly logger = new Logger('Gateway');
  private tick = 0;

  constructor(
    @InjectConfig() readonly config: AppConfig,
    private readonly auth: AuthService,
    private readonly table: ServiceTable,
    readonly routing: RoutingTable,
    readonly hold: HoldQueue,
    readonly load: LoadTracker,
    readonly upstream: UpstreamAgent,
    readonly metrics: GatewayMetrics,
    readonly limiter: GatewayLimiter,
    readonly usage: UsageRecorder,
  ) {}

  /** Handles one request to completion; never throws (errors become OpenAI-shaped responses). */
  async handle(endpoint: OpenAiEndpoint, req: GatewayRequest, res: ServerResponse): Promise<void> {
    const exchange = new Exchange(this, endpoint, req, res);
    try {
      await exchange.run();
    } catch (err) {
      exchange.fail(err);
    }
  }

  /** Verifies the key; 401 otherwise. */
  async principal(headers: IncomingHttpHeaders): Promise<Principal> {
    const token = bearerToken(headers.authorization);
    if (!token) throw GatewayError.unauthenticated('Missing API key: send "Authorization: Bearer <key>".');
    const principal = await this.auth.verify(token);
    if (!principal) throw GatewayError.unauthenticated('Invalid, expired or revoked API key.');
    return principal;
  }

  resolve(principal: Principal, model: string, headers: IncomingHttpHeaders): ServiceEntry {
    const hint = headers[PROJECT_HEADER];
    return resolveService(this.table.index, principal, model, typeof hint === 'string' ? hint : undefined);
  }

  /**
   * A ready group for the request by the service's routing strategy. An affinity key (header, or
   * `user` field) overrides `cache-aware` and decides `affinity`; `least-outstanding` ignores it.
   * `blocks` is the prompt's prefix (cache-aware only), hashed once per request by the caller.
   */
  pick(
    service: ServiceEntry,
    m: ServiceMetrics,
    exclude: ReadonlySet<string>,
    affinityKey: string | undefined,
    blocks: () => readonly number[],
  ): UpstreamEndpoint | undefined {
    const route = this.routing.route(service.id);
    if (!route) return undefined;
    const strategy = service.routing ?? this.config.gateway.routingStrategy;
    const tick = this.tick++;
    const all = route.endpoints;
    if (strategy === 'least-outstanding' || affinityKey !== undefined) {
      const key = strategy === 'least-outstanding' ? undefined : affinityKey;
      const chosen = pickEndpoint({ candidates: all, exclude, affinityKey: key, tick });
      if (chosen) m.routing(strategy, key === undefined ? 'least_outstanding' : 'affinity').inc();
      return chosen;
    }
    if (strategy === 'affinity') {
      const chosen = pickEndpoint({ candidates: all, exclude, tick });
      if (chosen) m.routing(strategy, 'least_outstanding').inc();
      return chosen;
    }
    const candidates = exclude.size ? all.filter((c) => !exclude.has(c.id)) : all;
    if (candidates.length === 0) return undefined;
    const prompt = blocks();
    const now = Date.now();
    const matched: number[] = [];
    if (prompt.length > 0) {
      const ids = candidates.map((c) => c.id);
      route.prefixes.match(prompt, ids, now, matched);
    } else for (let j = 0; j < candidates.length; j++) matched.push(0);
    const choice = pickCacheAware({
      candidates,
      matched,
      tick,
      ...(prompt.length > 0 ? { firstBlock: prompt[0] } : {}),
    });
    m.routing(strategy, choice.reason).inc();
    if (prompt.length > 0) {
      m.prefixQueryBlocks.inc(prompt.length);
      m.prefixHitBlocks.inc(choice.matchedBlocks);
      route.prefixes.record(prompt, choice.candidate.id, now);
    }
    return choice.candidate;
  }

  affinityKey(headers: IncomingHttpHeaders, parsed: ParsedRequest): string | undefined {
    const { header, user } = this.config.gateway.affinity;
    if (header) {
      const v = headers[header];
      if (typeof v === 'string' && v.length > 0) return v;
    }
    return user ? parsed.user : undefined;
  }
}

type Mode = 'pass' | 'sse' | 'error-body';

/** One client request: its state from receipt to the last byte, across at most two upstream attempts. */
class Exchange {
  private service?: ServiceEntry;
  private m?: ServiceMetrics;
  private caller?: CallerRef;
  private parsed?: ParsedRequest;
  private release?: () => void;
  private proxying = false;
  private headSent = false;
  private finished = false;
  private clientGone = false;
  private status = 0;
  private promptTokens = 0;
  private completionTokens = 0;
  private dispatchedAt = 0;
  private upstreamHeadersAt = 0;
  private readonly excluded = new Set<string>();
  /** The prompt's prefix blocks, hashed at the first cache-aware pick. */
  private blocks?: number[];
  private attempts = 0;
  private current?: Attempt;
  /** Made only for a held request (an AbortController per request costs more than it seems). */
  private holdAbort?: AbortController;

  constructor(
    private readonly gw: GatewayProxy,
    private readonly endpoint: OpenAiEndpoint,
    private readonly req: GatewayRequest,
    readonly res: ServerResponse,
  ) {
    res.on('close', () => {
      if (!res.writableFinished) this.onClientGone();
    });
  }

  async run(): Promise<void> {
    const principal = await this.gw.principal(this.req.headers);
    if (!this.req.body || this.req.body.length === 0) {
      throw GatewayError.badRequest(
        'invalid_request',
        'The request body is empty: send a JSON object with content-type: application/json.',
      );
    }
    const parsed = (this.parsed = parseRequest(this.endpoint, this.req.body));
    const service = (this.service = this.gw.resolve(principal, parsed.model, this.req.headers));
    this.m = this.gw.metrics.forService(`${service.projectName}/${service.name}`);
    const caller = (this.caller = { keyId: principal.keyId, projectId: service.projectId });
    const admission = await this.gw.limiter.admit(caller, { stream: parsed.stream });
    if (!admission.ok) {
      throw GatewayError.rateLimited(admission.reason, admission.message, admission.retryAfterSeconds);
    }
    this.release = admission.release;
    if (this.clientGone) return this.finish();

    const route = this.gw.routing.route(service.id);
    if (!route || route.endpoints.length === 0) await this.waitForGroup(service);
    if (this.clientGone) return this.finish();
    this.proxying = true;
    this.gw.load.of(service.id).inflight++;
    this.m.inflight.inc();
    this.attempt();
  }

  /** No ready group: hold the request while a service scaled to zero starts one, else 503. */
  private async waitForGroup(service: ServiceEntry): Promise<void> {
    const { retryAfterSeconds } = this.gw.config.gateway;
    if (!this.gw.routing.kubeConfigured) {
      throw GatewayError.unavailable(
        'The gateway cannot reach any group: Kubernetes is not configured (KUBECONFIG or KUBE_IN_CLUSTER).',
        retryAfterSeconds,
      );
    }
    if (!this.gw.routing.scaledToZero(service)) {
      throw GatewayError.unavailable(
        `The model \`${service.servedModelName}\` has no ready group right now; retry later.`,
        retryAfterSeconds,
        'no_ready_group',
      );
    }
    const m = this.m!;
    m.held.inc();
    try {
      await this.gw.hold.wait(service, {
        signal: (this.holdAbort = new AbortController()).signal,
        onKeepAlive: this.parsed!.stream
          ? () => {
              if (!this.headSent) this.writeStreamHead();
              this.res.write(': keep-alive\n\n');
            }
          : undefined,
      });
    } finally {
      m.held.dec();
    }
  }

  /** Sends the request to a group; called again (once) for a retry on another group. */
  attempt(): void {
    const parsed = this.parsed!;
    const endpoint = this.gw.pick(
      this.service!,
      this.m!,
      this.excluded,
      this.gw.affinityKey(this.req.headers, parsed),
      () => (this.blocks ??= promptBlocks(parsed.body)),
    );
    if (!endpoint) {
      throw GatewayError.unavailable(
        `The model \`${this.service!.servedModelName}\` has no other ready group to try.`,
        this.gw.config.gateway.retryAfterSeconds,
        'no_ready_group',
      );
    }
    this.attempts++;
    this.excluded.add(endpoint.id);
    if (this.attempts === 1) {
      this.dispatchedAt = performance.now();
      this.gw.metrics.overhead.observe((this.dispatchedAt - this.req.receivedAt) / 1000);
    }
    const attempt = (this.current = new Attempt(this, endpoint, this.m!.groupInflight(endpoint.pod)));
    this.gw.upstream.agent.dispatch(
      {
        origin: endpoint.origin,
        path: `/v1/${this.endpoint}`,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(parsed.upstreamBody.length),
          accept: parsed.stream ? 'text/event-stream' : 'application/json',
          'x-request-id': this.req.id,
        },
        body: parsed.upstreamBody,
        idempotent: false,
        blocking: true,
      },
      attempt,
    );
  }

  // ---- called by the attempt ----

  get isStream(): boolean {
    return this.parsed!.stream;
  }
  get isHeadSent(): boolean {
    return this.headSent;
  }
  get isClientGone(): boolean {
    return this.clientGone;
  }
  get canRetry(): boolean {
    return this.attempts < 2 && !this.headSent && !this.clientGone;
  }
  get firstByteTimeoutMs(): number {
    return this.gw.config.gateway.firstByteTimeoutMs;
  }
  get idleTimeoutMs(): number {
    return this.gw.config.gateway.idleTimeoutMs;
  }
  get dropUsageChunk(): boolean {
    return !this.parsed!.clientWantsUsage;
  }

  noteUpstreamHeaders(): void {
    if (this.upstreamHeadersAt === 0) this.upstreamHeadersAt = performance.now();
  }

  /** Tries another group after a failure that reached no client byte; false when none is left. */
  retry(reason: string): boolean {
    if (!this.canRetry) return false;
    const route = this.gw.routing.route(this.service!.id);
    if (!route || !route.endpoints.some((e) => !this.excluded.has(e.id))) return false;
    this.m!.retry(reason).inc();
    this.upstreamHeadersAt = 0;
    try {
      this.attempt();
      return true;
    } catch {
      return false;
    }
  }

  /** Head of a passed-through response (sent with its first byte). */
  writePassHead(status: number, contentType: string | undefined, contentLength: string | undefined): void {
    this.status = status;
    const headers: Record<string, string> = {
      'content-type': contentType ?? 'application/json',
      'x-request-id': this.req.id,
      'server-timing': this.serverTiming(),
    };
    if (contentLength !== undefined) headers['content-length'] = contentLength;
    this.res.writeHead(status, headers);
    this.headSent = true;
  }

  writeStreamHead(): void {
    this.status = 200;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      'x-request-id': this.req.id,
      'server-timing': this.serverTiming(),
    });
    this.headSent = true;
  }

  /** Writes bytes to the client; false when the client's buffer is full (pause upstream until drain). */
  write(chunk: Buffer, firstToken: boolean): boolean {
    if (firstToken && this.isStream) this.m!.ttft.observe((performance.now() - this.req.receivedAt) / 1000);
    return this.res.write(chunk);
  }

  setUsage(prompt: number, completion: number): void {
    this.promptTokens = prompt;
    this.completionTokens = completion;
  }

  /** The upstream response ended cleanly; `body` is the rest to send with the end. */
  complete(body?: Buffer): void {
    if (!this.headSent) this.writePassHead(this.status || 200, undefined, String(body?.length ?? 0));
    if (body && body.length > 0) this.res.end(body);
    else this.res.end();
    this.finish();
  }

  /** The upstream failed; `err` says how. Retries, answers an error, or ends the stream with one. */
  upstreamFailed(err: Error, endpoint: UpstreamEndpoint): void {
    if (this.clientGone) return this.finish();
    const code = (err as { code?: string }).code ?? '';
    if (
      !(err instanceof UpstreamTimeout) &&
      RETRYABLE_CODES.has(code) &&
      this.retry(code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNREFUSED' ? 'connect' : 'socket')
    ) {
      return;
    }
    let ge: GatewayError;
    if (err instanceof UpstreamTimeout) {
      ge = GatewayError.upstreamTimeout(
        err.phase === 'first byte'
          ? `The engine sent nothing within ${Math.round(this.firstByteTimeoutMs / 1000)} s (GATEWAY_FIRST_BYTE_TIMEOUT_MS).`
          : `The engine stopped sending for ${Math.round(this.idleTimeoutMs / 1000)} s (GATEWAY_IDLE_TIMEOUT_MS).`,
      );
    } else {
      ge = GatewayError.badGateway(
        this.headSent
          ? `The engine serving this model failed during the response (group ${endpoint.group}): ${err.message}`
          : `The engine serving this model could not be reached (group ${endpoint.group}): ${err.message}`,
      );
    }
    this.gw.logger.warn(`request ${this.req.id}: upstream ${endpoint.pod} failed: ${err.message}`);
    this.fail(ge);
  }

  /** Answers an error: a response when nothing was sent yet, an error event in a started stream. */
  fail(err: unknown): void {
    if (this.finished) return;
    const ge =
      err instanceof GatewayError
        ? err
        : new GatewayError(
            500,
            'server_error',
            'internal_error',
            'Internal error; quote the request id when reporting it.',
          );
    if (!(err instanceof GatewayError))
      this.gw.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    if (this.clientGone || this.res.destroyed) return this.finish();
    if (!this.headSent) {
      const body = ge.body();
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'x-request-id': this.req.id,
        'server-timing': this.serverTiming(),
      };
      if (ge.retryAfterSeconds !== undefined)
        headers['retry-after'] = String(Math.ceil(ge.retryAfterSeconds));
      this.status = ge.status;
      this.res.writeHead(ge.status, headers);
      this.headSent = true;
      this.res.end(body);
    } else if (this.isStream) {
      // The stream started (status 200 is gone): the OpenAI way to fail it is an error event.
      this.status = ge.status;
      this.res.end(ge.sseEvent());
    } else {
      this.status = ge.status;
      this.res.destroy();
    }
    this.finish();
  }

  private onClientGone(): void {
    if (this.clientGone || this.finished) return;
    this.clientGone = true;
    this.holdAbort?.abort();
    if (this.proxying) this.m?.aborts.inc();
    this.current?.abort(new ClientGone('client disconnected'));
    if (!this.proxying) return; // run() finishes once it notices
  }

  private serverTiming(): string {
    const own = (this.dispatchedAt || performance.now()) - this.req.receivedAt;
    let v = `gateway;dur=${own.toFixed(3)}`;
    if (this.upstreamHeadersAt > 0)
      v += `, upstream;dur=${(this.upstreamHeadersAt - this.dispatchedAt).toFixed(3)}`;
    return v;
  }

  /** Once per request, however it ended: limits released, usage recorded, counters updated. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.release?.();
    const status = this.clientGone ? CLIENT_CLOSED_STATUS : this.status || 500;
    const service = this.service;
    if (!service || !this.m) {
      this.gw.metrics.rejected.labels(String(status)).inc();
      return;
    }
    const m = this.m;
    const durationMs = performance.now() - this.req.receivedAt;
    m.requests(this.endpoint, status).inc();
    m.duration.observe(durationMs / 1000);
    if (this.proxying) {
      this.gw.load.of(service.id).inflight--;
      m.inflight.dec();
    }
    if (!this.caller || !this.release) return; // refused by the limits: nothing was admitted
    const tokens = this.promptTokens + this.completionTokens;
    if (tokens > 0) {
      m.promptTokens.inc(this.promptTokens);
      m.completionTokens.inc(this.completionTokens);
      this.gw.limiter.chargeTokens(this.caller, tokens);
    }
    this.gw.usage.record({
      projectId: service.projectId,
      serviceId: service.id,
      serviceName: service.name,
      apiKeyId: this.caller.keyId,
      endpoint: `/v1/${this.endpoint}`,
      status,
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
      durationMs: Math.round(durationMs),
      createdAt: new Date(Date.now() - durationMs),
    });
  }
}

/**
 * One upstream exchange, as an undici dispatch handler (the low-level API: no stream objects between
 * the engine's socket and the client's). Backpressure: returning false from onData pauses the
 * upstream socket until the client's socket drains.
 */
class Attempt implements Dispatcher.DispatchHandler {
  private abortFn?: (err?: Error) => void;
  private pendingAbort?: Error;
  private resume?: () => void;
  private mode: Mode = 'pass';
  private status = 0;
  private contentType?: string;
  private contentLength?: string;
  private relay?: SseRelay;
  private tail?: UsageTail;
  /** Chunks of a small non-streamed body, sent in one write when complete. */
  private whole?: Buffer[];
  private errorBody: Buffer[] = [];
  private firstByte = true;
  private discarded = false;
  private settled = false;
  private failure?: Error;
  private timer: NodeJS.Timeout;

  constructor(
    private readonly ex: Exchange,
    private readonly endpoint: UpstreamEndpoint,
    private readonly groupGauge: { inc(): void; dec(): void },
  ) {
    endpoint.outstanding++;
    groupGauge.inc();
    this.timer = setTimeout(() => this.abort(new UpstreamTimeout('first byte')), ex.firstByteTimeoutMs);
  }

  abort(err: Error): void {
    this.failure ??= err;
    if (this.abortFn) this.abortFn(err);
    else this.pendingAbort = err;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.pendingAbort) abort(this.pendingAbort);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx
    this.resume = resume;
    this.status = statusCode;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i];
      if (name.length === 12 && name.toString('latin1').toLowerCase() === 'content-type') {
        this.contentType = rawHeaders[i + 1].toString('latin1');
      } else if (name.length === 14 && name.toString('latin1').toLowerCase() === 'content-length') {
        this.contentLength = rawHeaders[i + 1].toString('latin1');
      }
    }
    const ex = this.ex;
    ex.noteUpstreamHeaders();
    if ((statusCode === 502 || statusCode === 503) && ex.canRetry) {
      // Try another group; this answer is dropped if there is one.
      this.discarded = true;
      const label = `status_${statusCode}`;
      if (ex.retry(label)) {
        this.settle();
        this.abortFn?.(new Error(`discarded ${statusCode}`));
        return false;
      }
      this.discarded = false;
    }
    const sse = statusCode === 200 && ex.isStream && (this.contentType ?? '').startsWith('text/event-stream');
    if (sse) {
      this.mode = 'sse';
      this.relay = new SseRelay(ex.dropUsageChunk);
    } else if (ex.isHeadSent) {
      // A held stream already answered 200 with keep-alives: an error can only be an event now.
      this.mode = 'error-body';
    } else {
      this.mode = 'pass';
      const length = this.contentLength === undefined ? NaN : Number(this.contentLength);
      if (length >= 0 && length <= WHOLE_BODY_MAX_BYTES) this.whole = [];
      else if (statusCode === 200) this.tail = new UsageTail();
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.discarded || this.ex.isClientGone) return true;
    if (this.firstByte) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.abort(new UpstreamTimeout('idle')), this.ex.idleTimeoutMs);
    } else this.timer.refresh();
    let out: Buffer;
    switch (this.mode) {
      case 'sse':
        out = this.relay!.push(chunk);
        if (out.length === 0) return true;
        if (!this.ex.isHeadSent) this.ex.writeStreamHead();
        break;
      case 'pass':
        if (this.whole) {
          this.whole.push(chunk);
          return true;
        }
        this.tail?.push(chunk);
        if (!this.ex.isHeadSent) this.ex.writePassHead(this.status, this.contentType, this.contentLength);
        out = chunk;
        break;
      case 'error-body':
        this.errorBody.push(chunk);
        return true;
    }
    const first = this.firstByte;
    this.firstByte = false;
    if (this.ex.write(out, first)) return true;
    this.ex.res.once('drain', () => this.resume?.());
    return false;
  }

  onComplete(): void {
    clearTimeout(this.timer);
    if (this.discarded) return;
    this.settle();
    const ex = this.ex;
    if (ex.isClientGone) return ex.finish();
    if (this.mode === 'error-body') {
      ex.fail(upstreamErrorFrom(this.status, Buffer.concat(this.errorBody)));
      return;
    }
    if (this.mode === 'sse') {
      const rest = this.relay!.rest();
      if (!ex.isHeadSent) ex.writeStreamHead();
      if (rest.length > 0) ex.res.write(rest);
      const u = this.relay!.usage;
      if (u) ex.setUsage(u.promptTokens, u.completionTokens);
    } else if (this.whole) {
      const joined = this.whole.length === 1 ? this.whole[0] : Buffer.concat(this.whole);
      const body = this.status >= 400 ? openAiErrorBody(joined) : joined;
      if (this.status === 200) {
        const u = usageFromJsonText(body.length > 8192 ? body.subarray(body.length - 8192) : body);
        if (u) ex.setUsage(u.promptTokens, u.completionTokens);
      }
      if (!ex.isHeadSent) ex.writePassHead(this.status, this.contentType, String(body.length));
      return ex.complete(body);
    } else {
      const u = this.tail?.usage();
      if (u) ex.setUsage(u.promptTokens, u.completionTokens);
      if (!ex.isHeadSent) ex.writePassHead(this.status, this.contentType, this.contentLength ?? '0');
    }
    ex.complete();
  }

  onError(err: Error): void {
    clearTimeout(this.timer);
    if (this.discarded) return;
    this.settle();
    const u = this.relay?.usage;
    if (u) this.ex.setUsage(u.promptTokens, u.completionTokens);
    this.ex.upstreamFailed(this.failure ?? err, this.endpoint);
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.endpoint.outstanding--;
    this.groupGauge.dec();
  }
}

/** An engine's error answer, turned into the gateway's error (its message kept when it has one). */
function upstreamErrorFrom(status: number, body: Buffer): GatewayError {
  let message = `The engine answered ${status}.`;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { message?: unknown }; message?: unknown };
    const m = parsed.error?.message ?? parsed.message;
    if (typeof m === 'string' && m) message = m;
  } catch {
    // not JSON: keep the generic message
  }
  if (status === 429) return GatewayError.rateLimited('engine_overloaded', message, 1);
  if (status >= 500) return new GatewayError(status, 'server_error', 'upstream_error', message);
  return new GatewayError(status, 'invalid_request_error', 'invalid_request', message);
}
