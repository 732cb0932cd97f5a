// JSON requests and watches with a kubeconfig's credentials (client-node's KubeConfig and Watch), the
// objects kept as the API sends them: client-node's typed APIs turn timestamps into Dates and drop
// fields they do not know, so what is cached (ResourceCache) or read and written back whole (the node
// agent's pod and node status) goes through here. Also how a kubeconfig is loaded, with one keep-alive
// agent per cluster.

import http from 'node:http';
import https from 'node:https';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { KubeConfigSettings } from '@troupe/config';
import type { ListPage, ResourceSource, WatchHandle, WatchQuery } from './resource-cache';

/**
 * A non-2xx answer: the HTTP status, the body (a metav1.Status, as a rule) and its reason and message.
 * `code` is the status too: the shape of client-node's ApiException, which `toKubeException` maps.
 */
export class KubeApiError extends Error {
  readonly code: number;

  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'KubeApiError';
    this.code = statusCode;
  }
}

/** The HTTP status an error carries (`statusCode`, or a numeric `code`), if any. */
export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  return typeof e.code === 'number' ? e.code : undefined;
}

/** No answer within the request timeout (a network error to `toKubeException`). */
export class KubeTimeout extends Error {
  readonly code = 'KUBE_TIMEOUT';
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** A KubeConfig from settings: the kubeconfig file, else the in-cluster service account. */
export function loadKubeConfig(
  settings: Pick<KubeConfigSettings, 'kubeconfigPath' | 'inCluster'>,
): KubeConfig {
  const kc = new KubeConfig();
  if (settings.kubeconfigPath) kc.loadFromFile(settings.kubeconfigPath);
  else if (settings.inCluster) kc.loadFromCluster();
  else throw new Error('Kubernetes settings name neither a kubeconfig nor in-cluster configuration');
  reuseConnections(kc);
  return kc;
}

const keptAgents = new WeakMap<KubeConfig, Map<string, http.Agent>>();

/**
 * client-node 1.x builds a new Agent for every API call (no keep-alive): each call opens a TCP
 * connection, and against a real API server does a TLS handshake. Agents are made from the
 * kubeconfig's TLS settings, which do not change, so one keep-alive agent per option set is kept and
 * reused. (Bearer tokens travel in headers, set per call as before.)
 */
function reuseConnections(kc: KubeConfig): void {
  if (keptAgents.has(kc)) return;
  type AgentFactory = (cluster: unknown, options: Record<string, unknown>) => http.Agent;
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, http.Agent>();
  keptAgents.set(kc, agents);
  target.createAgent = (cluster, options) => {
    const key = JSON.stringify([(cluster as { server?: string } | null)?.server, options]);
    let agent = agents.get(key);
    if (!agent) {
      agent = original(cluster, { ...options, keepAlive: true, maxSockets: 64, maxFreeSockets: 16 });
      agents.set(key, agent);
    }
    return agent;
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface KubeRequestOptions {
  query?: WatchQuery;
  /** Sent as JSON. */
  body?: unknown;
  /** Of the body. Default application/json (a merge patch: application/merge-patch+json). */
  contentType?: string;
}

/** Raw JSON access to the API server of a kubeconfig's current cluster; also a `ResourceSource`. */
export class KubeRest implements ResourceSource {
  private readonly watcher: Watch;
  private closed = false;

  /** `timeoutMs`: a request whose socket stays silent this long fails with `KubeTimeout`. */
  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly timeoutMs = 30_000,
  ) {
    this.watcher = new Watch(kubeConfig);
  }

  private server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  }

  /** The parsed JSON answer (the text when it is not JSON); a non-2xx answer throws `KubeApiError`. */
  async request(method: string, path: string, options: KubeRequestOptions = {}): Promise<unknown> {
    const url = new URL(this.server() + path);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const opts: https.RequestOptions = { method, headers };
    await this.kubeConfig.applyToHTTPSOptions(opts);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<unknown>((resolve, reject) => {
      const req = transport.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(body);
          const reason = isRecord(body) && typeof body.reason === 'string' ? body.reason : '';
          const message =
            isRecord(body) && typeof body.message === 'string'
              ? body.message
              : `${method} ${path}: HTTP ${status}`;
          const resHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') resHeaders[k] = v;
          reject(new KubeApiError(status, reason, message, body, resHeaders));
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new KubeTimeout(this.timeoutMs)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** One page of a list. */
  async list(path: string, query: WatchQuery): Promise<ListPage> {
    const res = await this.request('GET', path, { query });
    const meta = isRecord(res) && isRecord(res.metadata) ? res.metadata : {};
    return {
      items: isRecord(res) && Array.isArray(res.items) ? res.items : [],
      resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
      ...(typeof meta.continue === 'string' && meta.continue ? { continueToken: meta.continue } : {}),
    };
  }

  async watch(
    path: string,
    query: WatchQuery,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle> {
    if (this.closed) throw new Error('closed');
    const controller = await this.watcher.watch(
      path,
      query,
      (type: string, obj: unknown) => onEvent(type, obj),
      onDone,
    );
    return { abort: () => controller.abort() };
  }

  /** Refuses new watches and closes the kept connections of the kubeconfig. */
  close(): void {
    this.closed = true;
    for (const agent of keptAgents.get(this.kubeConfig)?.values() ?? []) agent.destroy();
  }
}
