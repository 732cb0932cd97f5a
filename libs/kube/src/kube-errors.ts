// Maps what talking to the Kubernetes API throws (client-node's ApiException carrying a metav1.Status,
// fetch/socket errors) to the platform's AppException. Pure.

import { AppException, ErrorCode, FieldIssue } from '@troupe/common';

/** Seconds after which a call that failed because the API server was unreachable or overloaded may work. */
export const KUBE_RETRY_AFTER_SECONDS = 5;

export const KUBE_NOT_CONFIGURED = 'Kubernetes is not configured: set KUBECONFIG or KUBE_IN_CLUSTER';

/** metav1.Status, as the API server sends it with every error. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number;
  };
}

/** An HTTP error answered by the API server (client-node's ApiException has this shape). */
export interface KubeHttpError {
  code: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Socket and DNS errors: the API server could not be reached. */
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
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'KUBE_TIMEOUT',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `true` for an error carrying an HTTP status code and a body (client-node's ApiException). */
export function isKubeHttpError(err: unknown): err is KubeHttpError {
  return isRecord(err) && typeof err.code === 'number' && err.code >= 100 && err.code <= 599 && 'body' in err;
}

/** The metav1.Status in an error body (a parsed object or its JSON text), if it is one. */
export function parseStatus(body: unknown): KubeStatus | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim() } : undefined;
    }
  }
  if (!isRecord(value)) return undefined;
  const status: KubeStatus = {};
  if (typeof value.kind === 'string') status.kind = value.kind;
  if (typeof value.status === 'string') status.status = value.status;
  if (typeof value.message === 'string') status.message = value.message;
  if (typeof value.reason === 'string') status.reason = value.reason;
  if (typeof value.code === 'number') status.code = value.code;
  if (isRecord(value.details)) {
    const d = value.details;
    status.details = {};
    if (typeof d.name === 'string') status.details.name = d.name;
    if (typeof d.group === 'string') status.details.group = d.group;
    if (typeof d.kind === 'string') status.details.kind = d.kind;
    if (typeof d.retryAfterSeconds === 'number') status.details.retryAfterSeconds = d.retryAfterSeconds;
    if (Array.isArray(d.causes)) {
      status.details.causes = d.causes.filter(isRecord).map((c) => ({
        ...(typeof c.reason === 'string' ? { reason: c.reason } : {}),
        ...(typeof c.message === 'string' ? { message: c.message } : {}),
        ...(typeof c.field === 'string' ? { field: c.field } : {}),
      }));
    }
  }
  return status;
}

/** Field issues of a 422 Status: one per cause (`field` without the leading dot of SSA paths). */
export function issuesFromStatus(status: KubeStatus | undefined): FieldIssue[] {
  const causes = status?.details?.causes ?? [];
  return causes.map((c) => {
    const message = c.message ?? c.reason ?? 'invalid';
    return { field: (c.field ?? '').replace(/^\./, ''), message };
  });
}

/** The `code` of a Node system error or a fetch error, if any. */
function systemCode(err: unknown): string | undefined {
  if (!isRecord(err)) return undefined;
  if (typeof err.code === 'string' && err.code) return err.code;
  if (typeof err.errno === 'string' && err.errno) return err.errno;
  if (isRecord(err.cause)) return systemCode(err.cause);
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function retryAfter(err: KubeHttpError, status: KubeStatus | undefined): number {
  const header = err.headers?.['retry-after'] ?? err.headers?.['Retry-After'];
  const fromHeader = header === undefined ? NaN : Number(header);
  if (Number.isFinite(fromHeader) && fromHeader > 0) return Math.ceil(fromHeader);
  return status?.details?.retryAfterSeconds ?? KUBE_RETRY_AFTER_SECONDS;
}

/** `true` when the error means the API server could not be reached (socket, DNS, timeout). */
export function isNetworkError(err: unknown): boolean {
  if (isKubeHttpError(err)) return false;
  const code = systemCode(err);
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  const name = err instanceof Error ? err.name : '';
  return name === 'FetchError' || name === 'AbortError' || name === 'TimeoutError';
}

export function unreachable(detail: string, cause?: unknown): AppException {
  return new AppException(ErrorCode.DependencyUnavailable, `Kubernetes API unreachable: ${detail}`, {
    retryAfterSeconds: KUBE_RETRY_AFTER_SECONDS,
    cause,
  });
}

/**
 * Maps an error of a Kubernetes API call to an AppException. `what` names the call for messages
 * ("apply leaderworkerset team-a/llama"). AppExceptions pass through; errors that are neither HTTP nor
 * network errors (programming errors, a broken kubeconfig) are returned unchanged.
 */
export function toKubeException(err: unknown, what: string): unknown {
  if (err instanceof AppException) return err;
  if (isKubeHttpError(err)) {
    const status = parseStatus(err.body);
    const message = status?.message ?? `HTTP ${err.code}`;
    const opts = { cause: err };
    switch (err.code) {
      case 404:
        return new AppException(ErrorCode.NotFound, message, opts);
      case 409:
        return new AppException(ErrorCode.Conflict, message, opts);
      case 410:
        return new AppException(ErrorCode.Conflict, `${what}: ${message}`, opts);
      case 400:
      case 422: {
        const issues = issuesFromStatus(status);
        return new AppException(ErrorCode.Unprocessable, message, issues.length ? { ...opts, issues } : opts);
      }
      case 401:
      case 403:
        // A real cluster answers admission webhook denials (the LWS webhook's validation) with 403.
        if (/admission webhook/i.test(message)) {
          const issues = issuesFromStatus(status);
          return new AppException(
            ErrorCode.Unprocessable,
            message,
            issues.length ? { ...opts, issues } : opts,
          );
        }
        return new AppException(
          ErrorCode.DependencyUnavailable,
          `Kubernetes refused to ${what} (${err.code}: ${message}): check the credentials and RBAC of the platform`,
          opts,
        );
      case 429:
        return new AppException(
          ErrorCode.DependencyUnavailable,
          `Kubernetes API overloaded: ${message} (${what})`,
          {
            ...opts,
            retryAfterSeconds: retryAfter(err, status),
          },
        );
      default:
        if (err.code >= 500) {
          return new AppException(
            ErrorCode.DependencyUnavailable,
            `Kubernetes API unreachable: ${err.code} ${message} (${what})`,
            { ...opts, retryAfterSeconds: retryAfter(err, status) },
          );
        }
        return new AppException(
          ErrorCode.Internal,
          `Kubernetes answered ${err.code} to ${what}: ${message}`,
          opts,
        );
    }
  }
  if (isNetworkError(err)) return unreachable(`${messageOf(err)} (${what})`, err);
  return err;
}

/** `true` when `err` (raw or mapped) is a Kubernetes 404. */
export function isNotFound(err: unknown): boolean {
  if (err instanceof AppException) return err.code === ErrorCode.NotFound;
  return isKubeHttpError(err) && err.code === 404;
}
