import { IncomingMessage } from 'node:http';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { Logger } from '@nestjs/common';
import { AppException, ErrorCode } from '@troupe/common';
import type { S3Config } from '@troupe/config';
import { Client, ClientOptions } from 'minio';
import {
  AbortOutcome,
  ByteRange,
  MultipartPart,
  ObjectListing,
  ObjectStat,
  ObjectStorage,
  S3_LIMITS,
  StorageNotSupported,
  StoredPart,
} from './object-storage';
import {
  errorCode,
  NOT_SUPPORTED_S3_CODES,
  STORAGE_RETRY_AFTER_SECONDS,
  StorageErrorContext,
  toStorageException,
} from './storage-errors';

/** minio's Client with its protected `listParts` (all pages of ListParts) made callable. */
class TroupeMinioClient extends Client {
  listAllParts(bucket: string, key: string, uploadId: string) {
    return this.listParts(bucket, key, uploadId);
  }
}

/** S3 wants query values escaped per RFC 3986 (encodeURIComponent leaves !'()* alone). */
function s3Escape(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function cleanEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '').replace(/^&quot;|&quot;$/gi, '');
}

async function drain(res: IncomingMessage): Promise<void> {
  res.resume();
  if (res.readableEnded) return;
  await new Promise<void>((resolve, reject) => {
    res.once('end', resolve);
    res.once('error', reject);
  });
}

/** The body given for a part or object did not have the announced size. */
export class BodySizeMismatch extends AppException {
  constructor(what: string, expected: number, actual: string) {
    super(ErrorCode.ValidationFailed, `${what}: expected ${expected} bytes, got ${actual}`);
  }
}

/**
 * Passes bytes through, failing as soon as more than `expected` arrive, or at the end when fewer did, so a short
 * or long body never reaches the store as a complete request (S3 would wait for the missing bytes until its
 * timeout, or reject the request with a less helpful error).
 */
class ExactLength extends Transform {
  private seen = 0;

  constructor(
    private readonly expected: number,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.expected) {
      callback(new BodySizeMismatch(this.what, this.expected, `more (${this.seen} so far)`));
    } else {
      callback(null, chunk);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(
      this.seen === this.expected ? null : new BodySizeMismatch(this.what, this.expected, String(this.seen)),
    );
  }
}

interface MinioObjectStorageOptions {
  /** Passed to minio (tests use it to keep failures fast). */
  retry?: ClientOptions['retryOptions'];
}

/**
 * The MinIO/S3 driver. Multipart is driven explicitly (initiate, part, complete, abort, list) — minio's high-level
 * `putObject` with a stream first calls ListMultipartUploads, which s3rver lacks — and state about uploads is
 * meant to live in the caller's database rather than be asked of the store.
 *
 * Streaming: a Readable part or object body is piped straight into the HTTP request, never buffered. minio-js
 * signs a request's payload with its sha256 over plain HTTP, which needs the whole body first; so streamed bodies
 * go through a second client whose requests are signed `UNSIGNED-PAYLOAD` (what minio-js always does over
 * HTTPS, and what presigned URLs do), with retries off since a consumed stream cannot be replayed. Buffers go
 * through the normal client, payload-signed. Integrity of what was stored is the caller's job (the upload feature
 * hashes the bytes as they pass and checks the client's sha256).
 */
export class MinioObjectStorage extends ObjectStorage {
  readonly configured = true;
  private readonly logger = new Logger('ObjectStorage');
  private readonly client: TroupeMinioClient;
  private readonly streamClient: TroupeMinioClient;
  private readonly bucket: string;
  private readonly region: string;
  private readonly endpoint: string;

  constructor(config: S3Config, options: MinioObjectStorageOptions = {}) {
    super();
    const url = new URL(config.endpoint);
    if (url.pathname !== '/' && url.pathname !== '') {
      throw new Error(`S3_ENDPOINT must not have a path (got "${config.endpoint}"); the bucket is S3_BUCKET`);
    }
    const base: ClientOptions = {
      endPoint: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : undefined,
      useSSL: url.protocol === 'https:',
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region,
      pathStyle: true,
    };
    this.client = new TroupeMinioClient({ ...base, retryOptions: options.retry });
    this.streamClient = new TroupeMinioClient({ ...base, retryOptions: { disableRetry: true } });
    this.streamClient.enableSHA256 = false;
    this.bucket = config.bucket;
    this.region = config.region;
    this.endpoint = `${url.protocol}//${url.host}`;
  }

  private fail(err: unknown, operation: string, key?: string, uploadId?: string): unknown {
    const ctx: StorageErrorContext = {
      operation,
      key,
      uploadId,
      bucket: this.bucket,
      endpoint: this.endpoint,
    };
    return toStorageException(err, ctx);
  }

  async ensureBucket(): Promise<void> {
    try {
      if (await this.client.bucketExists(this.bucket)) return;
      this.logger.log(`creating bucket ${this.bucket} at ${this.endpoint}`);
      await this.client.makeBucket(this.bucket, this.region);
    } catch (err) {
      // Another process created it meanwhile.
      if (errorCode(err) === 'BucketAlreadyOwnedByYou') return;
      if (
        errorCode(err) === 'BucketAlreadyExists' &&
        (await this.client.bucketExists(this.bucket).catch(() => false))
      ) {
        return;
      }
      throw this.fail(err, 'create or check');
    }
  }

  async ping(): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.streamClient.bucketExists(this.bucket);
    } catch (err) {
      throw this.fail(err, 'check');
    }
    if (!exists)
      throw new AppException(
        ErrorCode.DependencyUnavailable,
        `object storage at ${this.endpoint} answers but bucket "${this.bucket}" does not exist`,
        { retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS },
      );
  }

  async initiateMultipart(key: string, options: { contentType?: string } = {}): Promise<string> {
    try {
      return await this.client.initiateNewMultipartUpload(this.bucket, key, {
        'Content-Type': options.contentType ?? 'application/octet-stream',
      });
    } catch (err) {
      throw this.fail(err, 'start a multipart upload of', key);
    }
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable | Buffer,
    size: number,
  ): Promise<{ etag: string }> {
    checkPartNumber(partNumber);
    checkSize(size, S3_LIMITS.maxPartSize, 'part size');
    const what = `part ${partNumber} of ${key}`;
    const operation = `upload part ${partNumber} of`;
    if (Buffer.isBuffer(body)) {
      if (body.length !== size) throw new BodySizeMismatch(what, size, String(body.length));
      try {
        const res = await this.client.uploadPart(
          { bucketName: this.bucket, objectName: key, uploadID: s3Escape(uploadId), partNumber, headers: {} },
          body,
        );
        return { etag: cleanEtag(res.etag) };
      } catch (err) {
        throw this.fail(err, operation, key, uploadId);
      }
    }
    const query = `partNumber=${partNumber}&uploadId=${s3Escape(uploadId)}`;
    const res = await this.putStream(key, query, body, size, {}, what, operation, uploadId);
    return { etag: cleanEtag(headerValue(res.headers.etag)) };
  }

  /** PUT of a Readable of exactly `size` bytes, streamed, signed UNSIGNED-PAYLOAD. */
  private async putStream(
    key: string,
    query: string,
    body: Readable,
    size: number,
    headers: Record<string, string>,
    what: string,
    operation: string,
    uploadId?: string,
  ): Promise<IncomingMessage> {
    let bodyError: unknown;
    const counted = new ExactLength(size, what);
    // The caller's stream failing fails the request (pipe() alone would leave it waiting for the rest); our
    // failures do not destroy the caller's stream: it is theirs.
    const onBodyError = (err: unknown): void => {
      bodyError ??= err;
      counted.destroy(err instanceof Error ? err : new Error(String(err)));
    };
    body.on('error', onBodyError);
    counted.on('error', (err) => {
      if (err instanceof BodySizeMismatch) bodyError ??= err;
    });
    body.pipe(counted);
    try {
      const res = await this.streamClient.makeRequestStreamAsync(
        {
          method: 'PUT',
          bucketName: this.bucket,
          objectName: key,
          query,
          headers: { ...headers, 'content-length': String(size) },
        },
        counted,
        '',
        [200],
        this.region,
      );
      await drain(res);
      return res;
    } catch (err) {
      // The caller's stream failing (client gone) or the size check: report that, not a storage failure.
      if (bodyError !== undefined) throw bodyError;
      throw this.fail(err, operation, key, uploadId);
    } finally {
      body.off('error', onBodyError);
      body.unpipe(counted);
    }
  }

  async completeMultipart(key: string, uploadId: string, parts: MultipartPart[]): Promise<{ etag: string }> {
    if (parts.length === 0) {
      throw new AppException(ErrorCode.ValidationFailed, `cannot complete upload of ${key}: no parts`);
    }
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    sorted.forEach((p, i) => {
      checkPartNumber(p.partNumber);
      if (i > 0 && sorted[i - 1].partNumber === p.partNumber) {
        throw new AppException(ErrorCode.ValidationFailed, `part ${p.partNumber} of ${key} is listed twice`);
      }
    });
    try {
      const res = await this.client.completeMultipartUpload(
        this.bucket,
        key,
        uploadId,
        sorted.map((p) => ({ part: p.partNumber, etag: p.etag })),
      );
      return { etag: cleanEtag(res.etag) };
    } catch (err) {
      throw this.fail(err, 'complete the multipart upload of', key, uploadId);
    }
  }

  async abortMultipart(key: string, uploadId: string): Promise<AbortOutcome> {
    try {
      await this.client.abortMultipartUpload(this.bucket, key, s3Escape(uploadId));
      return 'aborted';
    } catch (err) {
      const code = errorCode(err);
      if (code === 'NoSuchUpload') return 'not-found';
      if (code !== undefined && NOT_SUPPORTED_S3_CODES.has(code)) {
        this.logger.warn(
          `object storage does not support AbortMultipartUpload (${code}); upload ${uploadId} of ${key} stays on the server`,
        );
        return 'not-supported';
      }
      throw this.fail(err, 'abort the multipart upload of', key, uploadId);
    }
  }

  async listParts(key: string, uploadId: string): Promise<StoredPart[]> {
    try {
      const parts = await this.client.listAllParts(this.bucket, key, uploadId);
      return parts
        .map((p) => ({ partNumber: p.part, etag: cleanEtag(p.etag), size: p.size }))
        .sort((a, b) => a.partNumber - b.partNumber);
    } catch (err) {
      const code = errorCode(err);
      if (code !== undefined && NOT_SUPPORTED_S3_CODES.has(code)) throw new StorageNotSupported('ListParts');
      throw this.fail(err, 'list the parts of the upload of', key, uploadId);
    }
  }

  async putObject(
    key: string,
    body: Buffer | Readable,
    size: number,
    options: { contentType?: string } = {},
  ): Promise<{ etag: string }> {
    checkSize(size, S3_LIMITS.maxSinglePutSize, 'object size');
    const headers = { 'content-type': options.contentType ?? 'application/octet-stream' };
    if (Buffer.isBuffer(body)) {
      if (body.length !== size) throw new BodySizeMismatch(key, size, String(body.length));
      try {
        const res = await this.client.makeRequestAsyncOmit(
          { method: 'PUT', bucketName: this.bucket, objectName: key, headers },
          body,
          [200],
          this.region,
        );
        return { etag: cleanEtag(headerValue(res.headers.etag)) };
      } catch (err) {
        throw this.fail(err, 'write', key);
      }
    }
    const res = await this.putStream(key, '', body, size, headers, key, 'write');
    return { etag: cleanEtag(headerValue(res.headers.etag)) };
  }

  async stat(key: string): Promise<ObjectStat | null> {
    try {
      const s = await this.client.statObject(this.bucket, key);
      return { size: s.size, etag: cleanEtag(s.etag), lastModified: s.lastModified };
    } catch (err) {
      const code = errorCode(err);
      if (code === 'NotFound' || code === 'NoSuchKey') return null;
      throw this.fail(err, 'stat', key);
    }
  }

  async getObject(key: string, range?: ByteRange): Promise<Readable> {
    if (range !== undefined) {
      if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0) {
        throw new AppException(
          ErrorCode.ValidationFailed,
          `invalid byte range ${range.start}-${range.end} of ${key}`,
        );
      }
      if (range.end <= range.start) {
        throw new AppException(
          ErrorCode.ValidationFailed,
          `empty byte range ${range.start}-${range.end} of ${key}`,
        );
      }
    }
    try {
      if (range === undefined) return await this.client.getObject(this.bucket, key);
      return await this.client.getPartialObject(this.bucket, key, range.start, range.end - range.start);
    } catch (err) {
      throw this.fail(err, range ? `read bytes ${range.start}-${range.end} of` : 'read', key);
    }
  }

  async presignedGetUrl(key: string, expirySeconds: number): Promise<string> {
    checkExpiry(expirySeconds);
    try {
      return await this.client.presignedGetObject(this.bucket, key, expirySeconds);
    } catch (err) {
      throw this.fail(err, 'presign a GET of', key);
    }
  }

  async presignedPartUrl(
    key: string,
    uploadId: string,
    partNumber: number,
    expirySeconds: number,
  ): Promise<string> {
    checkExpiry(expirySeconds);
    checkPartNumber(partNumber);
    try {
      return await this.client.presignedUrl('PUT', this.bucket, key, expirySeconds, {
        partNumber: String(partNumber),
        uploadId,
      });
    } catch (err) {
      throw this.fail(err, `presign a PUT of part ${partNumber} of`, key, uploadId);
    }
  }

  async listObjects(prefix: string): Promise<ObjectListing[]> {
    const out: ObjectListing[] = [];
    try {
      const stream = this.client.listObjectsV2(this.bucket, prefix, true);
      for await (const item of stream as AsyncIterable<{ name?: string; size?: number }>) {
        if (item.name !== undefined) out.push({ key: item.name, size: item.size ?? 0 });
      }
    } catch (err) {
      throw this.fail(err, `list objects under "${prefix}" in`);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deleteObject(key: string): Promise<void> {
    try {
      await this.client.removeObject(this.bucket, key);
    } catch (err) {
      throw this.fail(err, 'delete', key);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (prefix.length === 0 || !prefix.endsWith('/')) {
      // A prefix like "p/m/v1" would also match "p/m/v10/...": refuse rather than delete too much.
      throw new Error(`deletePrefix needs a non-empty prefix ending with '/' (got "${prefix}")`);
    }
    // List first, then delete: deleting while paginating can make some servers skip keys.
    const keys = (await this.listObjects(prefix)).map((o) => o.key);
    let deleted = 0;
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      let failures: unknown[];
      try {
        failures = await this.client.removeObjects(this.bucket, batch);
      } catch (err) {
        throw this.fail(err, `delete objects under "${prefix}" in`);
      }
      // minio returns the <Error> entries of the DeleteResult (typed as `{Error?: ...}`, really `{Code, Key}`).
      const failed = failures.filter((f) => f !== null && f !== undefined);
      if (failed.length > 0) {
        const first = failed[0] as { Code?: string; Key?: string; Error?: { Code?: string; Key?: string } };
        const code = first.Code ?? first.Error?.Code ?? 'unknown';
        const failedKey = first.Key ?? first.Error?.Key ?? '?';
        throw new AppException(
          ErrorCode.DependencyUnavailable,
          `object storage failed to delete ${failed.length} of ${batch.length} objects under "${prefix}" (first: ${failedKey}: ${code})`,
          { retryAfterSeconds: 5 },
        );
      }
      deleted += batch.length;
    }
    return deleted;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function checkPartNumber(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > S3_LIMITS.maxPartNumber) {
    throw new AppException(
      ErrorCode.ValidationFailed,
      `part number must be 1-${S3_LIMITS.maxPartNumber} (got ${n})`,
    );
  }
}

function checkSize(size: number, max: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > max) {
    throw new AppException(ErrorCode.ValidationFailed, `${what} must be 0-${max} bytes (got ${size})`);
  }
}

function checkExpiry(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > S3_LIMITS.maxPresignExpirySeconds) {
    throw new AppException(
      ErrorCode.ValidationFailed,
      `presigned URL expiry must be 1-${S3_LIMITS.maxPresignExpirySeconds} seconds (got ${seconds})`,
    );
  }
}
