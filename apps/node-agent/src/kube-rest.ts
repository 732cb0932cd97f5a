// The agent's door to the API server: JSON requests and watches with the kubeconfig's credentials
// (@kubernetes/client-node's KubeConfig and Watch). Objects stay JSON as the API sends them: the typed
// client would turn timestamps into Dates and drop fields it does not know, and a status written back
// must keep everything it read.

import http from 'node:http';
import https from 'node:https';
import { KubeConfig, Watch } from '@kubernetes/client-node';

export type Query = Record<string, string | number | boolean | undefined>;

/** A non-2xx answer: the HTTP status and, when the body was a metav1.Status, its reason and message. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  return typeof e.code === 'number' ? e.code : undefined;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Default application/json. */
  contentType?: string;
}

export interface WatchHandle {
  abort(): void;
}

export interface KubeRest {
  request(method: string, path: string, options?: RequestOptions): Promise<unknown>;
  /**
   * Starts a watch; `onEvent` per line (type, object), `onDone` once when it ends (null: the server
   * closed it; else the error, an HTTP error with `statusCode`).
   */
  watch(
    path: string,
    query: Query,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle>;
  close(): void;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function loadKubeConfig(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  if (!kc.getCurrentCluster()) throw new Error(`${kubeconfigPath}: the kubeconfig has no current cluster`);
  return kc;
}

/**
 * client-node 1.x makes a new Agent per call (no keep-alive). The agents depend only on the
 * kubeconfig's TLS settings, so one keep-alive agent per option set is kept (as libs/kube does).
 */
function reuseConnections(kc: KubeConfig): void {
  type AgentFactory = (cluster: unknown, options: Record<string, unknown>) => http.Agent;
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, http.Agent>();
  target.createAgent = (cluster, options) => {
    const key = JSON.stringify([(cluster as { server?: string } | null)?.server, options]);
    let agent = agents.get(key);
    if (!agent) {
      agent = original(cluster, { ...options, keepAlive: true, maxSockets: 32, maxFreeSockets: 8 });
      agents.set(key, agent);
    }
    return agent;
  };
}

class Timeout extends Error {
  constructor(ms: number) {
    super(`no answer from the API server within ${ms} ms`);
  }
}

export function kubeRest(kc: KubeConfig, timeoutMs = 30_000): KubeRest {
  reuseConnections(kc);
  const watcher = new Watch(kc);
  const server = (): string => {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  };
  let closed = false;
  const agents = new Set<http.Agent>();
  return {
    async request(method, path, options = {}) {
      const url = new URL(server() + path);
      for (const [k, v] of Object.entries(options.query ?? {}))
        if (v !== undefined) url.searchParams.set(k, String(v));
      const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (payload !== undefined) {
        headers['Content-Type'] = options.contentType ?? 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
      const opts: https.RequestOptions = { method, headers };
      await kc.applyToHTTPSOptions(opts);
      if (opts.agent instanceof http.Agent) agents.add(opts.agent);
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
            reject(new KubeApiError(status, reason, message, body));
          });
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Timeout(timeoutMs)));
        req.on('error', reject);
        req.end(payload);
      });
    },
    async watch(path, query, onEvent, onDone) {
      if (closed) throw new Error('closed');
      const controller = await watcher.watch(
        path,
        query,
        (type: string, obj: unknown) => onEvent(type, obj),
        onDone,
      );
      return { abort: () => controller.abort() };
    },
    close() {
      closed = true;
      for (const a of agents) a.destroy();
    },
  };
}
