import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppException, ErrorCode } from '@troupe/common';
import { AppConfig, ConfigModule, S3Config } from '@troupe/config';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisabledObjectStorage, STORAGE_NOT_CONFIGURED } from './disabled-object-storage';
import { BodySizeMismatch, MinioObjectStorage } from './minio-storage';
import { objectKey, ObjectStorage, StorageNotSupported, versionPrefix } from './object-storage';
import { StorageModule } from './storage.module';

const MiB = 1024 * 1024;

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7 + (i >> 10)) & 0xff;
  return b;
}

function chunked(buf: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
    })(),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

describe('MinioObjectStorage against s3rver', () => {
  let dir: string;
  let server: S3rver;
  let config: S3Config;
  let storage: MinioObjectStorage;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'troupe-storage-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
    const address = await server.run();
    config = {
      endpoint: `http://127.0.0.1:${address.port}`,
      region: 'us-east-1',
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      bucket: 'troupe-test',
    };
    storage = new MinioObjectStorage(config);
    await storage.ensureBucket();
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ensures the bucket again without complaint', async () => {
    await storage.ensureBucket();
    await storage.ensureBucket();
    expect(await storage.listObjects('')).toEqual([]);
  });

  it('assembles a multipart upload sent out of order, from streams and buffers', async () => {
    const key = objectKey('p1', 'llama', 'v1', 'model-00001-of-00001.safetensors');
    const parts = [pattern(5 * MiB, 1), pattern(5 * MiB, 2), pattern(1000, 3)];
    const whole = Buffer.concat(parts);
    const uploadId = await storage.initiateMultipart(key);
    expect(uploadId).toMatch(/\S/);

    const p3 = await storage.uploadPart(key, uploadId, 3, chunked(parts[2]), parts[2].length);
    const p1 = await storage.uploadPart(key, uploadId, 1, chunked(parts[0]), parts[0].length);
    const p2 = await storage.uploadPart(key, uploadId, 2, parts[1], parts[1].length);
    // A part's etag is the md5 of its bytes on s3rver, MinIO and S3 (without SSE).
    expect(p1.etag).toBe(createHash('md5').update(parts[0]).digest('hex'));
    expect(p2.etag).toBe(createHash('md5').update(parts[1]).digest('hex'));

    const done = await storage.completeMultipart(key, uploadId, [
      { partNumber: 2, etag: p2.etag },
      { partNumber: 3, etag: p3.etag },
      { partNumber: 1, etag: p1.etag },
    ]);
    expect(done.etag).toMatch(/\S/);

    const st = await storage.stat(key);
    expect(st?.size).toBe(whole.length);
    expect(st?.lastModified).toBeInstanceOf(Date);

    expect(sha(await readAll(await storage.getObject(key)))).toBe(sha(whole));
    const range = { start: 5 * MiB - 10, end: 5 * MiB + 10 };
    expect(await readAll(await storage.getObject(key, range))).toEqual(
      whole.subarray(range.start, range.end),
    );
    expect(await readAll(await storage.getObject(key, { start: 0, end: 8 }))).toEqual(whole.subarray(0, 8));
  });

  it('puts small objects, lists them and deletes a version prefix', async () => {
    const prefix = versionPrefix('p2', 'm', 'v1');
    await storage.putObject(prefix + 'config.json', Buffer.from('{"a":1}'), 7, {
      contentType: 'application/json',
    });
    await storage.putObject(prefix + 'tok/vocab.json', chunked(pattern(300_000, 9), 1000), 300_000);
    // A sibling version whose name starts with the same characters must survive.
    await storage.putObject(versionPrefix('p2', 'm', 'v10') + 'config.json', Buffer.from('{}'), 2);

    expect(await storage.listObjects(prefix)).toEqual([
      { key: 'p2/m/v1/config.json', size: 7 },
      { key: 'p2/m/v1/tok/vocab.json', size: 300_000 },
    ]);
    expect((await readAll(await storage.getObject(prefix + 'config.json'))).toString()).toBe('{"a":1}');

    expect(await storage.deletePrefix(prefix)).toBe(2);
    expect(await storage.listObjects(prefix)).toEqual([]);
    expect(await storage.stat(prefix + 'config.json')).toBeNull();
    expect(await storage.stat('p2/m/v10/config.json')).not.toBeNull();
    expect(await storage.deletePrefix(prefix)).toBe(0);
    await expect(storage.deletePrefix('p2/m/v1')).rejects.toThrow(/ending with '\/'/);
  });

  it('serves a presigned GET to a plain HTTP client', async () => {
    const key = 'p3/m/v1/tokenizer.json';
    const body = pattern(10_000, 4);
    await storage.putObject(key, body, body.length);
    const url = await storage.presignedGetUrl(key, 60);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(body);
  });

  it('accepts parts PUT by a plain HTTP client on presigned URLs', async () => {
    const key = 'p3/m/v1/model.safetensors';
    const parts = [pattern(5 * MiB, 5), pattern(4321, 6)];
    const uploadId = await storage.initiateMultipart(key);
    const etags = [];
    for (const [i, part] of parts.entries()) {
      const url = await storage.presignedPartUrl(key, uploadId, i + 1, 300);
      const res = await fetch(url, { method: 'PUT', body: part });
      expect(res.status).toBe(200);
      etags.push({ partNumber: i + 1, etag: (res.headers.get('etag') ?? '').replace(/"/g, '') });
    }
    await storage.completeMultipart(key, uploadId, etags);
    expect(sha(await readAll(await storage.getObject(key)))).toBe(sha(Buffer.concat(parts)));
  });

  it('reports that s3rver has no ListParts and no AbortMultipartUpload', async () => {
    const key = 'p4/m/v1/model.safetensors';
    const uploadId = await storage.initiateMultipart(key);
    await storage.uploadPart(key, uploadId, 1, Buffer.from('abc'), 3);
    const err = await rejection(storage.listParts(key, uploadId));
    expect(err).toBeInstanceOf(StorageNotSupported);
    expect((err as StorageNotSupported).operation).toBe('ListParts');
    expect(await storage.abortMultipart(key, uploadId)).toBe('not-supported');
  });

  it('streams a part without holding it in memory', async () => {
    const key = 'p4/m/v1/big.safetensors';
    const size = 96 * MiB;
    const chunk = Buffer.alloc(MiB, 7);
    const body = Readable.from(
      (function* () {
        for (let sent = 0; sent < size; sent += chunk.length) yield Buffer.from(chunk);
      })(),
    );
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 5);
    try {
      const uploadId = await storage.initiateMultipart(key);
      await storage.uploadPart(key, uploadId, 1, body, size);
      await storage.completeMultipart(key, uploadId, [{ partNumber: 1, etag: 'ignored-by-s3rver' }]);
    } finally {
      clearInterval(sampler);
    }
    expect((await storage.stat(key))?.size).toBe(size);
    // Buffering the part would need 96 MiB at once; streaming keeps a few chunks in flight (s3rver included).
    expect(peak - baseline).toBeLessThan(40 * MiB);
  });

  it('refuses a part body shorter or longer than announced, before the request completes', async () => {
    const key = 'p5/m/v1/model.safetensors';
    const uploadId = await storage.initiateMultipart(key);
    const short = await rejection(storage.uploadPart(key, uploadId, 1, chunked(pattern(1000, 1), 100), 2000));
    expect(short).toBeInstanceOf(BodySizeMismatch);
    expect((short as AppException).code).toBe(ErrorCode.ValidationFailed);
    expect((short as Error).message).toBe(
      'part 1 of p5/m/v1/model.safetensors: expected 2000 bytes, got 1000',
    );
    const long = await rejection(storage.uploadPart(key, uploadId, 1, chunked(pattern(3000, 1), 100), 2000));
    expect(long).toBeInstanceOf(BodySizeMismatch);
    await expect(storage.uploadPart(key, uploadId, 1, Buffer.alloc(10), 11)).rejects.toBeInstanceOf(
      BodySizeMismatch,
    );
    // The server still answers: the failed requests did not wedge the connection pool.
    const ok = await storage.uploadPart(key, uploadId, 1, chunked(pattern(2000, 1), 100), 2000);
    expect(ok.etag).toMatch(/^[0-9a-f]{32}$/);
  });

  it("rethrows the caller's stream error unchanged", async () => {
    const key = 'p5/m/v1/other.safetensors';
    const uploadId = await storage.initiateMultipart(key);
    const boom = new Error('client went away');
    const body = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(boom);
      },
    });
    expect(await rejection(storage.uploadPart(key, uploadId, 1, body, 5000))).toBe(boom);
  });

  it('answers NotFound naming the key, and null from stat', async () => {
    expect(await storage.stat('p6/missing')).toBeNull();
    const err = await rejection(storage.getObject('p6/missing'));
    expect(err).toBeInstanceOf(AppException);
    expect((err as AppException).code).toBe(ErrorCode.NotFound);
    expect((err as Error).message).toContain('p6/missing');
  });

  it('validates arguments before calling the store', async () => {
    await expect(storage.uploadPart('k', 'u', 0, Buffer.alloc(1), 1)).rejects.toThrow(/part number/);
    await expect(storage.uploadPart('k', 'u', 10_001, Buffer.alloc(1), 1)).rejects.toThrow(/part number/);
    await expect(storage.presignedGetUrl('k', 8 * 24 * 3600)).rejects.toThrow(/expiry/);
    await expect(storage.getObject('k', { start: 5, end: 5 })).rejects.toThrow(/empty byte range/);
    await expect(storage.completeMultipart('k', 'u', [])).rejects.toThrow(/no parts/);
    await expect(
      storage.completeMultipart('k', 'u', [
        { partNumber: 1, etag: 'a' },
        { partNumber: 1, etag: 'b' },
      ]),
    ).rejects.toThrow(/listed twice/);
  });

  it('maps an unreachable store to DependencyUnavailable with a retry hint and the key', async () => {
    const port = await freePort();
    const down = new MinioObjectStorage(
      { ...config, endpoint: `http://127.0.0.1:${port}` },
      { retry: { disableRetry: true } },
    );
    for (const attempt of [
      () => down.stat('p7/m/v1/config.json'),
      () => down.uploadPart('p7/m/v1/config.json', 'u1', 1, chunked(Buffer.alloc(10)), 10),
      () => down.initiateMultipart('p7/m/v1/config.json'),
    ]) {
      const err = await rejection(attempt());
      expect(err).toBeInstanceOf(AppException);
      expect((err as AppException).code).toBe(ErrorCode.DependencyUnavailable);
      expect((err as AppException).retryAfterSeconds).toBeGreaterThan(0);
      expect((err as Error).message).toMatch(
        /^object storage unavailable: .*p7\/m\/v1\/config\.json.*ECONNREFUSED/,
      );
    }
  });

  it('ping: answers when the store and the bucket are there, and says which is missing otherwise', async () => {
    await expect(storage.ping()).resolves.toBeUndefined();
    const noBucket = new MinioObjectStorage({ ...config, bucket: 'no-such-bucket' });
    const err = await rejection(noBucket.ping());
    expect((err as AppException).code).toBe(ErrorCode.DependencyUnavailable);
    expect((err as Error).message).toMatch(/answers but bucket "no-such-bucket" does not exist/);
    const down = new MinioObjectStorage({ ...config, endpoint: `http://127.0.0.1:${await freePort()}` });
    const refused = await rejection(down.ping());
    expect((refused as AppException).code).toBe(ErrorCode.DependencyUnavailable);
    expect((refused as Error).message).toMatch(/object storage unavailable: .*ECONNREFUSED/);
  });

  describe('StorageModule', () => {
    async function boot(cfg: Partial<AppConfig>) {
      @Module({ imports: [ConfigModule.forRoot(cfg as AppConfig), StorageModule] })
      class Root {}
      const app = await NestFactory.createApplicationContext(Root, { logger: false });
      return app;
    }

    it('provides the MinIO driver and creates the bucket on init', async () => {
      const app = await boot({ s3: { ...config, bucket: 'created-on-boot' } });
      const provided = app.get(ObjectStorage);
      expect(provided).toBeInstanceOf(MinioObjectStorage);
      expect(provided.configured).toBe(true);
      await provided.putObject('x/y', Buffer.from('z'), 1);
      await app.close();
    });

    it('provides a store that explains what to set when S3 is not configured', async () => {
      const app = await boot({ s3: undefined });
      const provided = app.get(ObjectStorage);
      expect(provided).toBeInstanceOf(DisabledObjectStorage);
      const err = await rejection(provided.stat('a/b'));
      expect((err as AppException).code).toBe(ErrorCode.DependencyUnavailable);
      expect((err as Error).message).toBe(STORAGE_NOT_CONFIGURED);
      await app.close();
    });
  });
});

describe('object keys', () => {
  it('joins project, model, version and path', () => {
    expect(objectKey('p', 'm', 'v', 'a/b.json')).toBe('p/m/v/a/b.json');
    expect(versionPrefix('p', 'm', 'v')).toBe('p/m/v/');
  });

  it.each(['', '/etc/passwd', 'a/../b', '..', 'a//b', './a', 'a\\b', 'a\u0001b'])('refuses path %j', (p) => {
    expect(() => objectKey('p', 'm', 'v', p)).toThrow(AppException);
  });

  it('refuses segments with slashes', () => {
    expect(() => versionPrefix('p/q', 'm', 'v')).toThrow(/project/);
  });
});
