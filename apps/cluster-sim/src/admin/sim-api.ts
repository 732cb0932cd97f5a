// Fault injection and introspection under /sim/ (documented in docs/cluster-sim.md).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EngineFaults } from '@troupe/engine-sim';
import { ApiError } from '../api/errors';
import { readBody, sendJson } from '../api/http/respond';
import type { Kubelet } from '../kubelet/kubelet';
import { isObject } from '../util/json';

export interface AdminDeps {
  kubelet: Kubelet;
  summary: () => unknown;
}

function notFound(what: string): ApiError {
  return new ApiError(404, 'NotFound', `${what} not found`);
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (!isObject(v)) throw new Error('not an object');
    return v;
  } catch (e) {
    throw new ApiError(400, 'BadRequest', `invalid JSON body: ${(e as Error).message}`);
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

export function adminHandler(d: AdminDeps) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const seg = url.pathname.split('/').filter(Boolean).map(decodeURIComponent); // ['sim', ...]
    const method = req.method ?? 'GET';
    const route = `${method} ${seg.slice(1, 2).join('/')}`;
    if (method === 'GET' && seg.length === 1) return sendJson(res, 200, d.summary());
    if (route === 'GET engines' && seg.length === 2)
      return sendJson(res, 200, { items: d.kubelet.engines() });
    if (route === 'POST pods' && seg.length === 5) {
      const [, , ns, name, action] = seg;
      const body = await jsonBody(req);
      let ok = false;
      if (action === 'fail') {
        ok = d.kubelet.failPod(
          ns,
          name,
          typeof body.reason === 'string' ? body.reason : 'Error',
          typeof body.message === 'string' ? body.message : 'Container failed (fault injected)',
        );
      } else if (action === 'restart') {
        ok = d.kubelet.restartContainer(
          ns,
          name,
          typeof body.container === 'string' ? body.container : undefined,
        );
      } else throw notFound(`action ${action}`);
      if (!ok) throw notFound(`running pod ${ns}/${name}`);
      return sendJson(res, 200, { ok: true });
    }
    if (route === 'POST nodes' && seg.length === 4) {
      const [, , name, action] = seg;
      if (action !== 'down' && action !== 'up') throw notFound(`action ${action}`);
      if (!d.kubelet.setNodeDown(name, action === 'down')) throw notFound(`node ${name}`);
      return sendJson(res, 200, { ok: true });
    }
    if ((route === 'POST engines' || route === 'DELETE engines') && seg.length === 5 && seg[4] === 'faults') {
      const [, , ns, pod] = seg;
      const faults: Partial<EngineFaults> = {};
      if (method === 'DELETE') Object.assign(faults, NO_FAULTS);
      else {
        const body = await jsonBody(req);
        for (const k of FAULT_KEYS) {
          if (body[k] !== undefined) (faults as Record<string, unknown>)[k] = body[k];
        }
      }
      if (!d.kubelet.setEngineFaults(ns, pod, faults)) throw notFound(`engine of pod ${ns}/${pod}`);
      return sendJson(res, 200, { ok: true, faults });
    }
    throw new ApiError(404, 'NotFound', `no such admin endpoint: ${method} ${url.pathname}`);
  };
}
