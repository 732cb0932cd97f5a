import { Readable } from 'node:stream';
import { Agent, Dispatcher, request } from 'undici';
import { LocalFileError } from './io';

/**
 * The CLI's only way to the server: typed methods over the HTTP API (docs/architecture.md). Errors
 * come back as `ApiError` (the server answered with `{"error":{code,message,issues?,requestId}}` or
 * another non-2xx) or `NetworkError` (no answer: refused, reset, timed out).
 */

export type VersionState = 'UPLOADING' | 'VERIFYING' | 'READY' | 'FAILED';

export interface ProjectView {
  id: string;
  name: string;
  [key: string]: unknown;
}

export interface ModelView {
  id: string;
  name: string;
  projectId: string;
  description: string | null;
  createdAt: string;
  [key: string]: unknown;
}

export interface VersionSummary {
  id?: string;
  version: string;
  state: VersionState;
  [key: string]: unknown;
}

export interface ModelDetail extends ModelView {
  versions: VersionSummary[];
}

export interface FileView {
  path: string;
  size: number;
  sha256: string;
}

export interface VersionView {
  id: string;
  version: string;
  state: VersionState;
  failureReason?: string | null;
  metadata?: Record<string, unknown> | null;
  files: FileView[];
  totalBytes?: number;
  [key: string]: unknown;
}

export interface UploadSession {
  uploadId: string;
  partSize: number;
  partCount: number;
  expiresAt: string;
}

export interface PartView {
  partNumber: number;
  size: number;
  etag: string;
  sha256?: string | null;
}

export type UploadState = 'ACTIVE' | 'COMPLETED' | 'ABORTED';

export interface UploadView extends UploadSession {
  path: string;
  size: number;
  state: UploadState;
  parts: PartView[];
}

export type ServicePhase =
  'PENDING' | 'DEPLOYING' | 'READY' | 'DEGRADED' | 'UPDATING' | 'FAILED' | 'DELETING' | 'DELETED';

export interface LeaderEndpoint {
  group: number;
  pod: string;
  ip: string;
  port: number;
}

export interface ObservedServiceState {
  groups: { desired: number; current: number; ready: number; updated: number };
  leaderEndpoints: LeaderEndpoint[];
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  pendingPods?: number;
  unschedulable?: string;
  observedAt?: string;
  [key: string]: unknown;
}

export interface ServiceSpecView {
  parallelism?: { tensor: number; pipeline: number };
  gpusPerNode?: number;
  gpu?: { resource?: string; type?: string; nodeSelector?: Record<string, string> };
  replicas?: { initial?: number; min?: number; max?: number };
  engine?: {
    kind?: string;
    image?: string;
    extraArgs?: string[];
    env?: Record<string, string>;
    [key: string]: unknown;
  };
  placement?: { exclusiveTopology?: string; [key: string]: unknown };
  layoutExplanation?: string;
  [key: string]: unknown;
}

export interface AutoscalingPolicyView {
  enabled: boolean;
  minReplicas: number;
  maxReplicas: number;
  metric: string;
  target: number;
  stableWindowSeconds: number;
  panicWindowSeconds: number;
  panicThreshold: number;
  scaleUpStabilizationSeconds: number;
  scaleDownStabilizationSeconds: number;
  maxScaleUpStep: number;
  maxScaleDownStep?: number;
  scaleDownStepSeconds?: number;
  scaleToZero?: { enabled: boolean; idleSeconds: number };
}

/** Who sets the number of groups (GET /services/{name} `scaling`). */
export interface ScalingView {
  owner: 'spec' | 'admin' | 'autoscaler';
  pinnedReplicas: number | null;
  policy: AutoscalingPolicyView | null;
  lastDecision: {
    desired: number;
    current: number;
    reason: string;
    message: string;
    at: string;
  } | null;
}

export interface ServiceView {
  name: string;
  servedModelName: string;
  namespace: string;
  projectId?: string;
  model: { name: string; version: string };
  spec: ServiceSpecView;
  generation: number;
  status: {
    phase: ServicePhase;
    reason: string | null;
    lastError: string | null;
    appliedGeneration: number | null;
    observed: ObservedServiceState | null;
  };
  createdAt?: string;
  scaling?: ScalingView;
  [key: string]: unknown;
}

/** The body of `POST /api/v1/services` (projectId added by the client for admin keys). */
export interface CreateServiceInput {
  name: string;
  model: string;
  version: string;
  servedModelName?: string;
  namespace?: string;
  parallelism?: { tensor: number; pipeline: number };
  gpusPerNode?: number;
  gpu?: { resource?: string; type?: string; nodeSelector?: Record<string, string> };
  replicas?: { initial?: number; min?: number; max?: number };
  engine: {
    kind?: 'vllm' | 'sglang';
    image: string;
    extraArgs?: string[];
    env?: Record<string, string>;
    maxModelLen?: number;
    dtype?: string;
    maxNumSeqs?: number;
  };
  placement?: { exclusiveTopology?: string; startupPolicy?: string; restartPolicy?: string };
  rollout?: { maxUnavailable?: number | string; maxSurge?: number | string };
}

export interface ServiceDryRun {
  dryRun: true;
  spec: ServiceSpecView;
  manifest: Record<string, unknown>;
}

export interface ServiceEvent {
  type: string;
  reason: string;
  message: string;
  createdAt: string;
  [key: string]: unknown;
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** The server answered with an error status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** What the CLI prints: `<message> (request <id>)`. */
  describe(): string {
    return this.requestId ? `${this.message} (request ${this.requestId})` : this.message;
  }
}

/** No HTTP answer at all: connection refused or reset, DNS failure, timeout. */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly url: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

/** Worth trying again: nothing answered, or the server said it was momentarily unable. */
export function isTransient(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  if (err instanceof ApiError) return [408, 429, 500, 502, 503, 504].includes(err.status);
  return false;
}

export function isAbort(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return err.name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED';
}

export interface ClientOptions {
  url: string;
  key: string;
  /** Sent as `projectId` (query, or body on creation) on /models and /services routes: admin keys need it. */
  projectId?: string;
  /** Maximum connections to the server (parts in flight + a few). */
  connections?: number;
}

interface CallOptions {
  query?: Record<string, string | number | undefined>;
  /** Return the 2xx body as text instead of parsing it as JSON (e.g. YAML manifests). */
  text?: boolean;
  json?: unknown;
  /** Raw body: a fresh stream per call (retries build a new one). */
  body?: Readable;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

type Query = Record<string, string | number | undefined>;

/** Encodes a relative file path for the URL, keeping its `/` separators. */
export function encodePath(filePath: string): string {
  return filePath.split('/').map(encodeURIComponent).join('/');
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly dispatcher: Agent;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.dispatcher = new Agent({
      connections: options.connections ?? 16,
      keepAliveTimeout: 10_000,
      connectTimeout: 15_000,
      headersTimeout: 300_000,
      bodyTimeout: 300_000,
    });
  }

  get projectId(): string | undefined {
    return this.options.projectId;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  // --- projects (used by login to check the key) ---

  listProjects(): Promise<{ data: ProjectView[] }> {
    return this.call('GET', '/api/v1/projects', { query: { limit: 1 } });
  }

  getProject(id: string): Promise<ProjectView> {
    return this.call('GET', `/api/v1/projects/${encodeURIComponent(id)}`);
  }

  // --- models and versions ---

  createModel(input: { name: string; description?: string }): Promise<ModelView> {
    const json: Record<string, string> = { name: input.name };
    if (input.description !== undefined) json.description = input.description;
    if (this.options.projectId) json.projectId = this.options.projectId;
    return this.call('POST', '/api/v1/models', { json });
  }

  async listModels(): Promise<ModelView[]> {
    const all: ModelView[] = [];
    const limit = 500;
    for (let offset = 0; ; offset += limit) {
      const page = await this.call<{ data: ModelView[] }>('GET', '/api/v1/models', {
        query: this.scoped({ limit, offset }),
      });
      all.push(...page.data);
      if (page.data.length < limit) return all;
    }
  }

  getModel(model: string): Promise<ModelDetail> {
    return this.call('GET', this.modelPath(model), { query: this.scoped() });
  }

  createVersion(model: string, version: string): Promise<VersionView> {
    return this.call('POST', `${this.modelPath(model)}/versions`, {
      json: { version },
      query: this.scoped(),
    });
  }

  getVersion(model: string, version: string): Promise<VersionView> {
    return this.call('GET', this.versionPath(model, version), { query: this.scoped() });
  }

  finalizeVersion(model: string, version: string): Promise<VersionView> {
    return this.call('POST', `${this.versionPath(model, version)}/finalize`, { query: this.scoped() });
  }

  // --- uploads ---

  /** Streams one whole file (small files). */
  putFile(
    model: string,
    version: string,
    filePath: string,
    body: Readable,
    size: number,
    opts: { sha256?: string; signal?: AbortSignal } = {},
  ): Promise<FileView> {
    return this.call('PUT', `${this.versionPath(model, version)}/files/${encodePath(filePath)}`, {
      query: this.scoped(),
      body,
      headers: rawHeaders(size, opts.sha256),
      signal: opts.signal,
    });
  }

  createUpload(
    model: string,
    version: string,
    input: { path: string; size: number; sha256?: string },
  ): Promise<UploadSession> {
    return this.call('POST', `${this.versionPath(model, version)}/uploads`, {
      json: input,
      query: this.scoped(),
    });
  }

  putPart(
    uploadId: string,
    partNumber: number,
    body: Readable,
    size: number,
    opts: { sha256?: string; signal?: AbortSignal } = {},
  ): Promise<PartView> {
    return this.call('PUT', `/api/v1/uploads/${encodeURIComponent(uploadId)}/parts/${partNumber}`, {
      body,
      headers: rawHeaders(size, opts.sha256),
      signal: opts.signal,
    });
  }

  getUpload(uploadId: string): Promise<UploadView> {
    return this.call('GET', `/api/v1/uploads/${encodeURIComponent(uploadId)}`);
  }

  completeUpload(uploadId: string): Promise<FileView> {
    return this.call('POST', `/api/v1/uploads/${encodeURIComponent(uploadId)}/complete`);
  }

  async abortUpload(uploadId: string): Promise<void> {
    await this.call('DELETE', `/api/v1/uploads/${encodeURIComponent(uploadId)}`);
  }

  // --- services ---

  createService(input: CreateServiceInput): Promise<ServiceView> {
    return this.call('POST', '/api/v1/services', { json: this.withProject(input) });
  }

  dryRunService(input: CreateServiceInput): Promise<ServiceDryRun> {
    return this.call('POST', '/api/v1/services', {
      json: this.withProject(input),
      query: { dryRun: 'true' },
    });
  }

  async listServices(): Promise<ServiceView[]> {
    const all: ServiceView[] = [];
    const limit = 500;
    for (let offset = 0; ; offset += limit) {
      const page = await this.call<{ data: ServiceView[] }>('GET', '/api/v1/services', {
        query: this.scoped({ limit, offset }),
      });
      all.push(...page.data);
      if (page.data.length < limit) return all;
    }
  }

  getService(name: string): Promise<ServiceView> {
    return this.call('GET', this.servicePath(name), { query: this.scoped() });
  }

  deleteService(name: string): Promise<ServiceView | undefined> {
    return this.call('DELETE', this.servicePath(name), { query: this.scoped() });
  }

  serviceManifestYaml(name: string): Promise<string> {
    return this.call('GET', `${this.servicePath(name)}/manifest`, {
      query: this.scoped({ format: 'yaml' }),
      headers: { accept: 'application/yaml, text/plain, */*' },
      text: true,
    });
  }

  serviceManifest(name: string): Promise<Record<string, unknown>> {
    return this.call('GET', `${this.servicePath(name)}/manifest`, { query: this.scoped() });
  }

  /** Pins the service at `replicas` groups (202; applied by the reconciler). */
  scaleService(name: string, replicas: number): Promise<ServiceView> {
    return this.call('POST', `${this.servicePath(name)}/scale`, { json: { replicas }, query: this.scoped() });
  }

  setAutoscaling(name: string, policy: Record<string, unknown>): Promise<ServiceView> {
    return this.call('PUT', `${this.servicePath(name)}/autoscaling`, { json: policy, query: this.scoped() });
  }

  serviceEvents(name: string): Promise<{ data: ServiceEvent[] }> {
    return this.call('GET', `${this.servicePath(name)}/events`, { query: this.scoped() });
  }

  // --- plumbing ---

  private servicePath(name: string): string {
    return `/api/v1/services/${encodeURIComponent(name)}`;
  }

  private withProject<T extends object>(body: T): T & { projectId?: string } {
    return this.options.projectId ? { ...body, projectId: this.options.projectId } : body;
  }

  private modelPath(model: string): string {
    return `/api/v1/models/${encodeURIComponent(model)}`;
  }

  private versionPath(model: string, version: string): string {
    return `${this.modelPath(model)}/versions/${encodeURIComponent(version)}`;
  }

  private scoped(query: Query = {}): Query {
    return this.options.projectId ? { ...query, projectId: this.options.projectId } : query;
  }

  async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.key}`,
      accept: 'application/json',
      'user-agent': 'troupe-cli',
      ...opts.headers,
    };
    let body: string | Readable | undefined = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        signal: opts.signal,
        dispatcher: this.dispatcher,
      });
    } catch (err) {
      // Reading the body failed on our side (or we aborted): not the network's fault.
      if (isAbort(err) || err instanceof LocalFileError) throw err;
      throw new NetworkError(
        `cannot reach ${this.baseUrl}: ${describeNetworkError(err)}`,
        url.toString(),
        err,
      );
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      if (isAbort(err)) throw err;
      throw new NetworkError(
        `connection to ${this.baseUrl} dropped while reading the answer: ${describeNetworkError(err)}`,
        url.toString(),
        err,
      );
    }
    const requestId = headerValue(res.headers['x-request-id']);
    if (res.statusCode >= 200 && res.statusCode < 300) {
      if (opts.text) return text as T;
      if (!text) return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ApiError(
          res.statusCode,
          'invalid_response',
          `the server answered ${method} ${path} with invalid JSON`,
          requestId,
        );
      }
    }
    throw toApiError(res.statusCode, text, requestId);
  }
}

function rawHeaders(size: number, sha256?: string): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(size),
  };
  if (sha256) headers['x-content-sha256'] = sha256;
  return headers;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

interface ErrorEnvelope {
  error?: { code?: unknown; message?: unknown; issues?: unknown; requestId?: unknown };
}

/** Builds an ApiError from any error answer, the platform's envelope or anything a proxy sends. */
export function toApiError(status: number, text: string, headerRequestId?: string): ApiError {
  let parsed: ErrorEnvelope | undefined;
  try {
    parsed = JSON.parse(text) as ErrorEnvelope;
  } catch {
    parsed = undefined;
  }
  const e = parsed?.error;
  if (e && typeof e.message === 'string') {
    const issues = Array.isArray(e.issues)
      ? e.issues.filter(
          (i): i is FieldIssue =>
            typeof i === 'object' && i !== null && typeof (i as FieldIssue).message === 'string',
        )
      : undefined;
    return new ApiError(
      status,
      typeof e.code === 'string' ? e.code : `http_${status}`,
      e.message,
      typeof e.requestId === 'string' ? e.requestId : headerRequestId,
      issues,
    );
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(
    status,
    `http_${status}`,
    `HTTP ${status}${snippet ? `: ${snippet}` : ''}`,
    headerRequestId,
  );
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const cause = (err as { cause?: unknown }).cause;
  const causeCode = cause instanceof Error ? (cause as { code?: unknown }).code : undefined;
  const c = typeof causeCode === 'string' ? causeCode : typeof code === 'string' ? code : undefined;
  switch (c) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running, and is the URL right?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'the server took too long to answer';
    default:
      return err.message || c || 'network error';
  }
}
