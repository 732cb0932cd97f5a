import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { AppException, ErrorCode } from '@troupe/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toKubeException } from './kube-errors';
import { KubeApiError, KubeRest, statusCodeOf } from './kube-rest';

interface Seen {
  method?: string;
  url?: string;
  contentType?: string;
  body: string;
}

describe('KubeRest', () => {
  const seen: Seen[] = [];
  let server: http.Server;
  let rest: KubeRest;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
          res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
          res.end(typeof body === 'string' ? body : JSON.stringify(body));
        };
        if (req.url?.startsWith('/api/v1/pods?')) {
          send(200, {
            kind: 'PodList',
            metadata: { resourceVersion: '42', continue: 'next' },
            items: [{ metadata: { name: 'a', creationTimestamp: '2024-01-01T00:00:00Z' }, extra: 1 }],
          });
        } else if (req.url === '/api/v1/namespaces/ns/pods/a/status') {
          send(200, JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } else if (req.url === '/busy') {
          send(
            429,
            { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'slow down' },
            {
              'Retry-After': '7',
            },
          );
        } else if (req.url === '/text') {
          res.writeHead(500);
          res.end('oops');
        } else {
          send(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'pods "x" not found' });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    rest = new KubeRest(kc, 5000);
  });

  afterAll(async () => {
    rest.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('lists a page as the API sends it (timestamps stay strings, unknown fields kept)', async () => {
    const page = await rest.list('/api/v1/pods', { limit: 500, labelSelector: undefined });
    expect(page).toEqual({
      items: [{ metadata: { name: 'a', creationTimestamp: '2024-01-01T00:00:00Z' }, extra: 1 }],
      resourceVersion: '42',
      continueToken: 'next',
    });
    expect(seen.at(-1)?.url).toBe('/api/v1/pods?limit=500');
  });

  it('sends a JSON body with its content type', async () => {
    const pod = { metadata: { name: 'a' }, status: { startTime: '2024-01-01T00:00:00Z' }, x: true };
    expect(await rest.request('PUT', '/api/v1/namespaces/ns/pods/a/status', { body: pod })).toEqual(pod);
    expect(seen.at(-1)).toMatchObject({ method: 'PUT', contentType: 'application/json' });
    await rest
      .request('PATCH', '/api/v1/namespaces/ns/pods/a/status', {
        body: { count: 2 },
        contentType: 'application/merge-patch+json',
      })
      .catch(() => undefined);
    expect(seen.at(-1)).toMatchObject({ contentType: 'application/merge-patch+json', body: '{"count":2}' });
  });

  it('rejects a non-2xx answer with a KubeApiError that toKubeException maps', async () => {
    const notFound = await rest.request('GET', '/api/v1/namespaces/ns/pods/x').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(KubeApiError);
    expect(notFound).toMatchObject({
      statusCode: 404,
      code: 404,
      reason: 'NotFound',
      message: 'pods "x" not found',
    });
    expect(statusCodeOf(notFound)).toBe(404);
    expect((toKubeException(notFound, 'get pod') as AppException).code).toBe(ErrorCode.NotFound);

    const busy = await rest.request('GET', '/busy').catch((e: unknown) => e);
    const mapped = toKubeException(busy, 'get busy') as AppException;
    expect(mapped.code).toBe(ErrorCode.DependencyUnavailable);
    expect(mapped.retryAfterSeconds).toBe(7);

    const text = await rest.request('GET', '/text').catch((e: unknown) => e);
    expect(text).toMatchObject({ statusCode: 500, body: 'oops', message: 'GET /text: HTTP 500' });
  });
});
