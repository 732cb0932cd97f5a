// Fault injection and introspection under /sim/ (documented in docs/cluster-sim.md), served by the
// cluster simulator on its API port and by the node agent on its own port: same paths, same JSON.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EngineFaults } from '@troupe/engine-sim';
import type { Kubelet } from './kubelet';

export interface AdminDeps {
  kubelet: Kubelet;
  summary: () => unknown;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

/** A metav1.Status failure, as the API server words errors. */
export function statusBody(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

class AdminError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function notFound(what: string): AdminError {
  return new AdminError(404, 'NotFound', `${what} not found`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseBody(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (!isObject(v)) throw new Error('not an object');
    return v;
  } catch (e) {
    throw new AdminError(400, 'BadRequest', `invalid JSON body: ${(e as Error).message}`);
  }
}

const FAULT_KEYS: (keyof EngineFaults)[] = [
  'slowFactor',
  'errorRate',
  'errorStatus',
  'cutStreamsAfterChunks',
  'unhealthy',
];
export const NO_FAULTS: EngineFaults = {
  slowFactor: 1,
  errorRate: 0,
  errorStatus: 500,
  cutStreamsAfterChunks: null,
  unhealthy: false,
};

/**
 * One admin request: `pathname` starts with /sim; `readBody` is called only by routes that take a
 * body. Errors are Status bodies (404 for unknown pods, nodes, engines and endpoints, 400 for bad JSON).
 */
export async function handleAdmin(
  d: AdminDeps,
  method: string,
  pathname: string,
  readBody: () => Promise<string>,
): Promise<AdminResponse> {
  try {
    return await route(d, method, pathname, async () => parseBody(await readBody()));
  } catch (e) {
    if (e instanceof AdminError) return { status: e.code, body: statusBody(e.code, e.reason, e.message) };
    throw e;
  }
}

async function route(
  d: AdminDeps,
  method: string,
  pathname: string,
  jsonBody: () => Promise<Record<string, unknown>>,
): Promise<AdminResponse> {
  const ok = (body: unknown): AdminResponse => ({ status: 200, body });
  const seg = pathname.split('/').filter(Boolean).map(decodeURIComponent); // ['sim', ...]
  const route = `${method} ${seg.slice(1, 2).join('/')}`;
  if (method === 'GET' && seg.length === 1) return ok(d.summary());
  if (route === 'GET engines' && seg.length === 2) return ok({ items: d.kubelet.engines() });
  if (route === 'POST pods' && seg.length === 5) {
    const [, , ns, name, action] = seg;
    const body = await jsonBody();
    let done = false;
    if (action === 'fail') {
      done = d.kubelet.failPod(
        ns,
        name,
        typeof body.reason === 'string' ? body.reason : 'Error',
        typeof body.message === 'string' ? body.message : 'Container failed (fault injected)',
      );
    } else if (action === 'restart') {
      done = d.kubelet.restartContainer(
        ns,
        name,
        typeof body.container === 'string' ? body.container : undefined,
      );
    } else throw notFound(`action ${action}`);
    if (!done) throw notFound(`running pod ${ns}/${name}`);
    return ok({ ok: true });
  }
  if (route === 'POST nodes' && seg.length === 4) {
    const [, , name, action] = seg;
    if (action !== 'down' && action !== 'up') throw notFound(`action ${action}`);
    if (!d.kubelet.setNodeDown(name, action === 'down')) throw notFound(`node ${name}`);
    return ok({ ok: true });
  }
  if ((route === 'POST engines' || route === 'DELETE engines') && seg.length === 5 && seg[4] === 'faults') {
    const [, , ns, pod] = seg;
    const faults: Partial<EngineFaults> = {};
    if (method === 'DELETE') Object.assign(faults, NO_FAULTS);
    else {
      const body = await jsonBody();
      for (const k of FAULT_KEYS) {
        if (body[k] !== undefined) (faults as Record<string, unknown>)[k] = body[k];
      }
    }
    if (!d.kubelet.setEngineFaults(ns, pod, faults)) throw notFound(`engine of pod ${ns}/${pod}`);
    return ok({ ok: true, faults });
  }
  throw new AdminError(404, 'NotFound', `no such admin endpoint: ${method} ${pathname}`);
}

const MAX_BODY = 1024 * 1024;

function readRequestBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new AdminError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendAdminJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

/** The admin API as a Node HTTP handler (`url`: the request URL, parsed). */
export function adminHandler(d: AdminDeps) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    let out: AdminResponse;
    try {
      out = await handleAdmin(d, req.method ?? 'GET', url.pathname, () => readRequestBody(req));
    } catch (e) {
      out =
        e instanceof AdminError
          ? { status: e.code, body: statusBody(e.code, e.reason, e.message) }
          : { status: 500, body: statusBody(500, 'InternalError', `Internal error occurred: ${String(e)}`) };
    }
    sendAdminJson(res, out.status, out.body);
  };
}
