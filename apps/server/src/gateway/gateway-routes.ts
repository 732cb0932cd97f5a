import { performance } from 'node:perf_hooks';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AppConfig, InjectConfig } from '@troupe/config';
import { GatewayError, GatewayProxy, OPENAI_ENDPOINTS } from '@troupe/gateway';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    gatewayReceivedAt?: number;
  }
}

/**
 * Mounts POST /v1/chat/completions, /v1/completions and /v1/embeddings directly on Fastify, in their
 * own plugin context: a body parser that keeps the caller's bytes (parsed once by the proxy, forwarded
 * as they came), the gateway's body limit, and OpenAI-shaped errors for what Fastify refuses itself
 * (413). Nest's guard/pipe/interceptor pipeline is not on this path: the proxy authenticates from the
 * in-memory key cache and writes the response itself, as it streams.
 */
@Injectable()
export class GatewayRoutes implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly proxy: GatewayProxy,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const bodyLimit = this.config.gateway.bodyLimitBytes;
    void fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) =>
        done(null, body),
      );
      scope.addHook('onRequest', (req, _reply, done) => {
        req.gatewayReceivedAt = performance.now();
        done();
      });
      scope.setErrorHandler((err: FastifyError, req, reply) => {
        const ge =
          err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413
            ? GatewayError.tooLarge(bodyLimit)
            : (err.statusCode ?? 500) < 500
              ? GatewayError.badRequest('invalid_request', err.message)
              : new GatewayError(
                  500,
                  'server_error',
                  'internal_error',
                  'Internal error; quote the request id.',
                );
        sendError(req, reply, ge);
      });
      for (const endpoint of OPENAI_ENDPOINTS) {
        scope.post(`/v1/${endpoint}`, { bodyLimit }, (req, reply) => {
          reply.hijack();
          return this.proxy.handle(
            endpoint,
            {
              id: String(req.id),
              headers: req.headers,
              body: Buffer.isBuffer(req.body) ? req.body : undefined,
              receivedAt: req.gatewayReceivedAt ?? performance.now(),
            },
            reply.raw,
          );
        });
      }
    });
  }
}

function sendError(req: FastifyRequest, reply: FastifyReply, err: GatewayError): void {
  const body = err.body();
  reply.header('x-request-id', String(req.id)).header('content-type', 'application/json');
  // A body refused for its size is not read further: close the connection after the answer.
  if (err.status === 413) reply.header('connection', 'close');
  void reply.code(err.status).send(body);
}
