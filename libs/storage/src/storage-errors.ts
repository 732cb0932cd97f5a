import { AppException, ErrorCode } from '@troupe/common';

/** Seconds after which a request that failed because the store was unreachable or overloaded may succeed. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/** Errors of the socket, not of S3: the store is unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** S3 error codes meaning "the store is busy or broken right now". */
const TRANSIENT_S3_CODES = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'XMinioServerNotInitialized',
  'XMinioStorageFull',
]);

/** S3 error codes meaning "the request was well-formed but the store refused what it asked". */
const REJECTED_S3_CODES = new Set([
  'EntityTooSmall',
  'EntityTooLarge',
  'InvalidPart',
  'InvalidPartOrder',
  'InvalidRange',
  'BadDigest',
  'IncompleteBody',
  'InvalidArgument',
  'InvalidDigest',
  'KeyTooLongError',
]);

const CREDENTIAL_S3_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
]);

export const NOT_SUPPORTED_S3_CODES = new Set(['MethodNotAllowed', 'NotImplemented']);

/** The `code` of an S3 error (minio's S3Error) or of a Node system error, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface StorageErrorContext {
  /** What was attempted, as a phrase: "upload part 3 of", "read". */
  operation: string;
  key?: string;
  uploadId?: string;
  bucket: string;
  endpoint: string;
}

/**
 * Maps what the minio client throws to the platform's errors. AppExceptions pass through; errors that are
 * neither S3 nor network errors (programming errors, a caller's stream failing) are rethrown unchanged.
 */
export function toStorageException(err: unknown, ctx: StorageErrorContext): unknown {
  if (err instanceof AppException) return err;
  const code = errorCode(err);
  const target = ctx.key === undefined ? `bucket ${ctx.bucket}` : ctx.key;
  const what = `${ctx.operation} ${target}`;
  const detail = code ? `${code}: ${errorMessage(err)}` : errorMessage(err);
  const unavailable = (): AppException =>
    new AppException(
      ErrorCode.DependencyUnavailable,
      `object storage unavailable: could not ${what} (${detail}; endpoint ${ctx.endpoint})`,
      { retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS, cause: err },
    );

  if (code !== undefined && NETWORK_CODES.has(code)) return unavailable();
  // minio-js retries 5xx once, then throws a plain Error with this message.
  if (code === undefined && /Retryable HTTP status|Retries exhausted/.test(errorMessage(err)))
    return unavailable();
  if (code === undefined) return err;

  if (code === 'NoSuchKey' || code === 'NotFound') {
    return new AppException(ErrorCode.NotFound, `object ${ctx.key ?? '(none)'} not found`, { cause: err });
  }
  if (code === 'NoSuchUpload') {
    return new AppException(
      ErrorCode.NotFound,
      `multipart upload ${ctx.uploadId ?? ''} of ${ctx.key ?? ''} not found (completed, aborted or expired)`,
      { cause: err },
    );
  }
  if (code === 'NoSuchBucket') {
    return new AppException(
      ErrorCode.DependencyUnavailable,
      `object storage bucket ${ctx.bucket} does not exist (could not ${what}); it is created at startup`,
      { cause: err },
    );
  }
  if (CREDENTIAL_S3_CODES.has(code)) {
    return new AppException(
      ErrorCode.DependencyUnavailable,
      `object storage refused the request to ${what} (${detail}): check S3_ACCESS_KEY, S3_SECRET_KEY and S3_REGION`,
      { cause: err },
    );
  }
  if (TRANSIENT_S3_CODES.has(code)) return unavailable();
  if (REJECTED_S3_CODES.has(code)) {
    return new AppException(ErrorCode.Unprocessable, `object storage refused to ${what}: ${detail}`, {
      cause: err,
    });
  }
  return new AppException(ErrorCode.DependencyUnavailable, `object storage failed to ${what}: ${detail}`, {
    cause: err,
  });
}
