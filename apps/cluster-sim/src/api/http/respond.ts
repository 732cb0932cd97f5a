// Small HTTP helpers.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../errors';

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  code: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.code, err.toStatus());
}

export const MAX_BODY = 16 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<string> {
  return readBodyBytes(req).then((b) => b.toString('utf8'));
}

export function readBodyBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses a JSON request body; an empty body gives undefined. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(
      400,
      'BadRequest',
      `couldn't get version/kind; json parse error: ${(e as Error).message}`,
    );
  }
}

export type Accept = 'json' | 'table' | 'partial';

/** What the client prefers: a Table, PartialObjectMetadata, or plain JSON. */
export function parseAccept(header: string | undefined): Accept {
  if (!header) return 'json';
  const first = header.split(',')[0];
  if (/as=Table/.test(first)) return 'table';
  if (/as=PartialObjectMetadata/.test(first)) return 'partial';
  return 'json';
}
