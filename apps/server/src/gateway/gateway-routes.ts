import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { chooseRequestId } from '@troupe/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { GatewayError, GatewayProxy, OPENAI_ENDPOINTS, OpenAiEndpoint } from '@troupe/gateway';
import type { FastifyInstance } from 'fastify';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves POST /v1/chat/completions, /v1/completions and /v1/embeddings straight from the Node HTTP
 * server, ahead of Fastify: the server's `request` listener is wrapped so that these three paths go to
 * the gateway proxy and everything else to Fastify (and Nest) as before.
 *
 * Why not a Fastify route: on this path every microsecond is overhead added to every token stream, and
 * the framework's per-request work (hooks of the Nest adapter, the request context, the content-type
 * parser's AsyncResource, the access log line and the route histogram) cost more CPU than the proxying
 * itself (measured with `BENCH_PROFILE=1 npm run bench:gateway`). The proxy needs none of it: it
 * authenticates from the in-memory key cache, answers OpenAI-shaped errors, echoes the request id,
 * sends `Server-Timing` and keeps its own metrics (`troupe_gateway_*`).
 *
 * The body is read here as bytes (bounded by GATEWAY_BODY_LIMIT_BYTES: 413 from content-length at
 * once, or as soon as a chunked body passes it, and the connection is closed rather than read on),
 * then parsed once by the proxy and forwarded as it came.
 */
@Injectable()
export class GatewayRoutes implements OnModuleInit, BeforeApplicationShutdown {
  private readonly paths = new Map<string, OpenAiEndpoint>(OPENAI_ENDPOINTS.map((e) => [`/v1/${e}`, e]));
  /** Set when the process starts shutting down: new requests get 503 (as Fastify answers its own). */
  private closing = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly proxy: GatewayProxy,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const server: Server = this.adapterHost.httpAdapter.getInstance<FastifyInstance>().server;
    const framework = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const endpoint = req.method === 'POST' ? this.endpointOf(req.url) : undefined;
      if (endpoint) return this.serve(endpoint, req, res);
      for (const listener of framework) listener.call(server, req, res);
    });
  }

  beforeApplicationShutdown(): void {
    this.closing = true;
  }

  private endpointOf(url: string | undefined): OpenAiEndpoint | undefined {
    if (!url) return undefined;
    const q = url.indexOf('?');
    return this.paths.get(q === -1 ? url : url.slice(0, q));
  }

  private serve(endpoint: OpenAiEndpoint, req: IncomingMessage, res: ServerResponse): void {
    const receivedAt = performance.now();
    const id = chooseRequestId(req.headers['x-request-id'], randomUUID);
    if (this.closing) {
      return this.refuse(id, req, res, GatewayError.unavailable('The gateway is shutting down; retry.', 1));
    }
    const limit = this.config.gateway.bodyLimitBytes;
    const announced = Number(req.headers['content-length']);
    if (announced > limit) return this.tooLarge(id, req, res, limit);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        return this.tooLarge(id, req, res, limit);
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      void this.proxy.handle(endpoint, { id, headers: req.headers, body, receivedAt }, res);
    });
    // A client that goes away while sending: nothing to answer (the proxy has not started).
    req.on('error', () => res.destroy());
  }

  /** 413, then the connection is closed: a body refused for its size is not read further. */
  private tooLarge(id: string, req: IncomingMessage, res: ServerResponse, limit: number): void {
    this.refuse(id, req, res, GatewayError.tooLarge(limit));
  }

  /** Answers an error without reading the body, and closes the connection. */
  private refuse(id: string, req: IncomingMessage, res: ServerResponse, err: GatewayError): void {
    const body = err.body();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-request-id': id,
      connection: 'close',
    };
    if (err.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(Math.ceil(err.retryAfterSeconds));
    res.writeHead(err.status, headers);
    res.end(body, () => req.socket.destroy());
  }
}
