import { Readable } from 'node:stream';
import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderError } from './render-error';

/** The one global filter: every error leaves through renderError, through the HTTP adapter (Fastify-safe). */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    sendError(exception, req, reply, this.logger, (r, body, status) =>
      this.adapterHost.httpAdapter.reply(r, body, status),
    );
  }
}

export function sendError(
  exception: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
  logger: Pick<Logger, 'error'>,
  send: (reply: FastifyReply, body: unknown, status: number) => void = (r, body, status) =>
    void r.status(status).send(body),
): void {
  const rendered = renderError(exception, req.url, String(req.id));
  if (rendered.status >= 500) {
    logger.error(exception instanceof Error ? exception : new Error(String(exception)), undefined, 'HTTP');
  }
  if (reply.sent || reply.raw.headersSent) {
    // A streamed response already started: all that is left is to end it.
    reply.raw.destroy();
    return;
  }
  for (const [k, v] of Object.entries(rendered.headers)) reply.header(k, v);
  // An upload refused before its body was read: close the connection after the answer instead of
  // reading (possibly gigabytes of) the rest.
  if (req.body instanceof Readable && !req.body.readableEnded) reply.header('connection', 'close');
  send(reply, rendered.body, rendered.status);
}
