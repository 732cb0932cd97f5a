import { ErrorCode, httpStatusFor } from './error-codes';

/** One problem with one input field, e.g. `{ field: 'name', message: 'must be 1-63 characters' }`. */
export interface FieldIssue {
  field: string;
  message: string;
}

export interface AppExceptionOptions {
  /** Field-level problems, for validation errors. */
  issues?: FieldIssue[];
  /** Seconds after which a retry may succeed (429, 503). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * The platform's error: a stable code, a message written for the person who made the request, and
 * optional field issues. Features subclass it to name their own errors; the global filter renders it.
 */
export class AppException extends Error {
  readonly issues?: FieldIssue[];
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppExceptionOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.issues = options.issues;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return httpStatusFor(this.code);
  }

  static validation(issues: FieldIssue[]): AppException {
    const summary = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ');
    return new AppException(ErrorCode.ValidationFailed, `Invalid request: ${summary}`, { issues });
  }

  static notFound(what: string): AppException {
    return new AppException(ErrorCode.NotFound, `${what} not found`);
  }
}
