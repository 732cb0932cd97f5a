import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, encodePath, isTransient, NetworkError, toApiError } from './api-client';
import { LocalFileError, readRange } from './io';
import { errorMessage } from './cli';

describe('api client errors', () => {
  it("reads the platform's error envelope", () => {
    const err = toApiError(
      400,
      JSON.stringify({
        error: {
          code: 'validation_failed',
          message: 'Invalid request',
          issues: [{ field: 'name', message: 'bad' }],
          requestId: 'r1',
        },
      }),
    );
    expect(err).toMatchObject({
      status: 400,
      code: 'validation_failed',
      message: 'Invalid request',
      requestId: 'r1',
    });
    expect(errorMessage(err)).toBe('error: Invalid request (request r1)\n  - name: bad');
  });

  it('describes anything else (a proxy page) by status, with the request id header', () => {
    const err = toApiError(502, '<html>Bad Gateway</html>', 'h1');
    expect(err.message).toBe('HTTP 502: <html>Bad Gateway</html>');
    expect(err.describe()).toBe('HTTP 502: <html>Bad Gateway</html> (request h1)');
  });

  it('retries network errors and 408/429/5xx only', () => {
    expect(isTransient(new NetworkError('x', 'u'))).toBe(true);
    expect(isTransient(new ApiError(503, 'x', 'x'))).toBe(true);
    expect(isTransient(new ApiError(429, 'x', 'x'))).toBe(true);
    expect(isTransient(new ApiError(404, 'x', 'x'))).toBe(false);
    expect(isTransient(new Error('x'))).toBe(false);
  });

  it('encodes file paths segment by segment', () => {
    expect(encodePath('sub dir/a#b.json')).toBe('sub%20dir/a%23b.json');
  });
});

describe('api client requests', () => {
  it('sends raw bodies with content-length and sha256, and reports a local read failure as such', async () => {
    const seen: { headers: Record<string, unknown>; bytes: number; url: string }[] = [];
    const server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        seen.push({ headers: req.headers, bytes, url: req.url ?? '' });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ path: 'a', size: bytes, sha256: 'x' }));
      });
      req.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const client = new ApiClient({ url: `http://127.0.0.1:${port}/`, key: 'k', projectId: 'p1' });
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'troupe-client-')), 'f');
    writeFileSync(file, '0123456789');
    try {
      const ok = await client.putFile('m', 'v', 'dir/f x', readRange(file, 0, 10), 10, { sha256: 'ab' });
      expect(ok.size).toBe(10);
      expect(seen[0].url).toBe('/api/v1/models/m/versions/v/files/dir/f%20x?projectId=p1');
      expect(seen[0].headers).toMatchObject({
        authorization: 'Bearer k',
        'content-length': '10',
        'content-type': 'application/octet-stream',
        'x-content-sha256': 'ab',
      });
      const empty = await client.putFile('m', 'v', 'empty', readRange(file, 0, 0), 0);
      expect(empty.size).toBe(0);
      const short = await client.putPart('u1', 1, readRange(file, 5, 10), 10).catch((e: unknown) => e);
      expect(short).toBeInstanceOf(LocalFileError);
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
