import { Readable } from 'node:stream';
import { AppException, ErrorCode } from '@troupe/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Raw bodies (file uploads) are not parsed: the parser hands the socket stream on untouched, so bytes
 * flow to object storage as they arrive. JSON keeps Fastify's parser and its body limit.
 */
export function registerRawBodyParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
}

export function rawBody(req: FastifyRequest): { body: Readable; contentLength?: number; sha256?: string } {
  if (!(req.body instanceof Readable)) {
    throw new AppException(
      ErrorCode.UnsupportedMediaType,
      'Send the file as the raw body with content-type: application/octet-stream',
    );
  }
  const length = req.headers['content-length'];
  const sha = req.headers['x-content-sha256'];
  return {
    body: req.body,
    contentLength: typeof length === 'string' && /^\d+$/.test(length) ? Number(length) : undefined,
    sha256: typeof sha === 'string' ? sha : undefined,
  };
}
