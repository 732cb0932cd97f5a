import { Readable } from 'node:stream';
import { AppException, ErrorCode } from '@troupe/common';

/** A part of a multipart upload as the client must list it when completing the upload. */
export interface MultipartPart {
  partNumber: number;
  etag: string;
}

/** A part the store holds for an unfinished multipart upload. */
export interface StoredPart extends MultipartPart {
  size: number;
}

export interface ObjectStat {
  size: number;
  etag: string;
  lastModified: Date;
}

export interface ObjectListing {
  key: string;
  size: number;
}

/** Byte range of an object: `start` inclusive, `end` exclusive (like `Buffer.subarray`), so length = end - start. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * What `abortMultipart` did: `aborted`; `not-found` (no such upload: already completed, aborted or expired);
 * `not-supported` (the server does not implement AbortMultipartUpload, e.g. s3rver: its parts stay behind).
 */
export type AbortOutcome = 'aborted' | 'not-found' | 'not-supported';

/** S3 limits that callers planning uploads need. */
export const S3_LIMITS = {
  /** Minimum size of every part but the last (S3 and MinIO enforce it on CompleteMultipartUpload). */
  minPartSize: 5 * 1024 * 1024,
  maxPartSize: 5 * 1024 * 1024 * 1024,
  maxPartNumber: 10_000,
  /** Largest object a single PUT may write. */
  maxSinglePutSize: 5 * 1024 * 1024 * 1024,
  /** Longest validity of a presigned URL (SigV4). */
  maxPresignExpirySeconds: 7 * 24 * 3600,
} as const;

/** The object store lacks an operation (s3rver has no ListParts). Callers keep the state themselves instead. */
export class StorageNotSupported extends AppException {
  constructor(readonly operation: string) {
    super(ErrorCode.DependencyUnavailable, `object storage does not support ${operation}`);
  }
}

/**
 * The object-storage port. Nest injection token too: inject `ObjectStorage`, get the MinIO/S3 driver, or the
 * disabled store when S3 is not configured. Keys are full object keys inside the configured bucket (see
 * `objectKey`). Every failure is an `AppException`: NotFound naming the key, DependencyUnavailable when the
 * store cannot be reached or fails (with `retryAfterSeconds` when retrying may help).
 */
export abstract class ObjectStorage {
  /** False for the placeholder used when S3 is not configured. */
  abstract readonly configured: boolean;

  /** Creates the bucket when missing; safe to call concurrently from several processes. */
  abstract ensureBucket(): Promise<void>;

  /** Checks that the store answers and the bucket exists (one request, no retries); throws when not. */
  abstract ping(): Promise<void>;

  /** Starts a multipart upload; returns its upload id. */
  abstract initiateMultipart(key: string, options?: { contentType?: string }): Promise<string>;

  /**
   * Uploads one part (1..10000) of exactly `size` bytes. A Readable is streamed to the store without being
   * buffered; a body shorter or longer than `size` fails with ValidationFailed and the part is not stored. If
   * the Readable itself errors, that error is rethrown unchanged. Re-uploading a part number replaces it.
   */
  abstract uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable | Buffer,
    size: number,
  ): Promise<{ etag: string }>;

  /** Assembles the parts (any order given; sent sorted). Every part but the last must be >= 5 MiB. */
  abstract completeMultipart(
    key: string,
    uploadId: string,
    parts: MultipartPart[],
  ): Promise<{ etag: string }>;

  /** Aborts an upload, freeing its parts; see `AbortOutcome` for servers that cannot. */
  abstract abortMultipart(key: string, uploadId: string): Promise<AbortOutcome>;

  /** Parts the store holds for an unfinished upload. Throws `StorageNotSupported` where the server lacks it. */
  abstract listParts(key: string, uploadId: string): Promise<StoredPart[]>;

  /** Writes a small object with one PUT (up to 5 GiB; use multipart for weights). */
  abstract putObject(
    key: string,
    body: Buffer | Readable,
    size: number,
    options?: { contentType?: string },
  ): Promise<{ etag: string }>;

  /** Size, etag and modification time, or null when the object does not exist. */
  abstract stat(key: string): Promise<ObjectStat | null>;

  /** Streams an object, or a byte range of it. NotFound when missing. */
  abstract getObject(key: string, range?: ByteRange): Promise<Readable>;

  /** A URL anyone holding it may GET the object from, until it expires. */
  abstract presignedGetUrl(key: string, expirySeconds: number): Promise<string>;

  /** A URL a client may PUT one part's bytes to (the response's ETag header is the part's etag). */
  abstract presignedPartUrl(
    key: string,
    uploadId: string,
    partNumber: number,
    expirySeconds: number,
  ): Promise<string>;

  /** Deletes one object; deleting a missing object is not an error. */
  abstract deleteObject(key: string): Promise<void>;

  /** Deletes every object under `prefix` (which must end with '/'); returns how many were deleted. */
  abstract deletePrefix(prefix: string): Promise<number>;

  /** Every object under `prefix`, recursively, sorted by key. */
  abstract listObjects(prefix: string): Promise<ObjectListing[]>;
}

// ---------------------------------------------------------------------------------------------------------------
// Keys: `<project>/<model>/<version>/<path>`.

function isSegment(value: string): boolean {
  if (value.length === 0 || value === '.' || value === '..') return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x2f /* / */ || c === 0x5c /* \ */) return false;
  }
  return true;
}

function checkSegment(field: string, value: string): void {
  if (!isSegment(value)) {
    throw AppException.validation([{ field, message: `must be one path segment (got "${value}")` }]);
  }
}

/** Prefix under which every object of one model version lives, with its trailing '/'. */
export function versionPrefix(projectId: string, model: string, version: string): string {
  checkSegment('project', projectId);
  checkSegment('model', model);
  checkSegment('version', version);
  return `${projectId}/${model}/${version}/`;
}

/**
 * Object key of a file of a model version. `path` is relative ("model-00001-of-00002.safetensors",
 * "tokenizer/vocab.json"); absolute paths, empty, '.' or '..' segments, backslashes and control characters are
 * refused, so a key never escapes its version's prefix. Callers validate user input first with their own
 * messages; this is the last line of defence.
 */
export function objectKey(projectId: string, model: string, version: string, path: string): string {
  const prefix = versionPrefix(projectId, model, version);
  if (path.length === 0 || path.startsWith('/')) {
    throw AppException.validation([
      { field: 'path', message: `must be a relative file path (got "${path}")` },
    ]);
  }
  for (const segment of path.split('/')) checkSegment('path', segment);
  return prefix + path;
}
