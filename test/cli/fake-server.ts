import { createHash, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { stringify as toYaml } from 'yaml';

/**
 * An in-memory implementation of the model/upload HTTP contract the CLI codes against, with fault
 * injection (dropped connections, 5xx, slow parts, expired sessions). It lets the CLI's protocol
 * handling be tested without the real server: the real one is covered by cli.e2e-spec.ts.
 */

interface FileRec {
  path: string;
  size: number;
  sha256: string;
}

interface VersionRec {
  id: string;
  version: string;
  state: 'UPLOADING' | 'VERIFYING' | 'READY' | 'FAILED';
  failureReason: string | null;
  metadata: Record<string, unknown> | null;
  files: Map<string, FileRec>;
  createdAt: string;
}

interface ModelRec {
  id: string;
  name: string;
  projectId: string;
  description: string | null;
  createdAt: string;
  versions: Map<string, VersionRec>;
}

interface PartRec {
  partNumber: number;
  size: number;
  etag: string;
  sha256: string;
  data: Buffer;
}

interface UploadRec {
  uploadId: string;
  model: string;
  version: string;
  path: string;
  size: number;
  sha256?: string;
  partSize: number;
  partCount: number;
  state: 'ACTIVE' | 'COMPLETED' | 'ABORTED';
  parts: Map<number, PartRec>;
  expiresAt: string;
}

/** One step of a service's life as the fake reports it: each GET of the service moves one step on. */
export interface ServiceStep {
  phase: string;
  reason?: string | null;
  ready?: number;
  lastError?: string | null;
}

interface ServiceRec {
  view: {
    name: string;
    servedModelName: string;
    namespace: string;
    model: { name: string; version: string };
    spec: Record<string, unknown>;
    generation: number;
    status: {
      phase: string;
      reason: string | null;
      lastError: string | null;
      appliedGeneration: number | null;
      observed: {
        groups: { desired: number; current: number; ready: number; updated: number };
        leaderEndpoints: { group: number; pod: string; ip: string; port: number }[];
      } | null;
    };
    createdAt: string;
  };
  events: { type: string; reason: string; message: string; createdAt: string }[];
  plan: ServiceStep[];
}

/** A service request as received: what the CLI sent. */
export interface ServiceRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: Record<string, unknown>;
}

export type PartFault = 'drop' | 'error500' | 'gone' | undefined;

export interface FakeServerOptions {
  keys?: Record<string, 'admin' | 'member' | 'inference'>;
  partSize?: number;
  /** ms the server waits before answering each part (to let a test interrupt mid-upload). */
  partDelayMs?: number;
  /** Verification time after finalize. */
  verifyMs?: number;
}

export interface RequestLog {
  method: string;
  path: string;
  status: number;
}

export class FakeServer {
  readonly projectId = randomUUID();
  readonly models = new Map<string, ModelRec>();
  readonly uploads = new Map<string, UploadRec>();
  readonly log: RequestLog[] = [];
  readonly services = new Map<string, ServiceRec>();
  readonly serviceRequests: ServiceRequest[] = [];
  /** What GETs of a new service report, one step per GET (the last one stays). */
  servicePlan: ServiceStep[] = [{ phase: 'DEPLOYING' }, { phase: 'READY', ready: 1 }];
  /** Called for every part PUT with the attempt number for that part (1-based). */
  partFault: (partNumber: number, attempt: number, uploadId: string) => PartFault = () => undefined;
  partSize: number;
  partDelayMs: number;
  /** Most part requests being handled at the same time. */
  maxPartsInFlight = 0;
  private partsInFlight = 0;
  private readonly attempts = new Map<string, number>();
  private server?: Server;
  url = '';

  constructor(private readonly opts: FakeServerOptions = {}) {
    this.partSize = opts.partSize ?? 1024 * 1024;
    this.partDelayMs = opts.partDelayMs ?? 0;
  }

  get keys(): Record<string, 'admin' | 'member' | 'inference'> {
    return this.opts.keys ?? { 'troupe_member-key': 'member' };
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent)
          this.send(res, req, 500, { error: { code: 'internal_error', message: err.message } });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Part requests whose bodies are still being read or delayed (they may yet be stored). */
  get partsPending(): number {
    return this.partsInFlight;
  }

  /** Part PUT requests answered 200. */
  partsStored(): number {
    return this.log.filter((r) => r.method === 'PUT' && /\/parts\//.test(r.path) && r.status === 200).length;
  }

  version(model: string, version: string): VersionRec | undefined {
    return this.models.get(model)?.versions.get(version);
  }

  private send(res: ServerResponse, req: IncomingMessage, status: number, body?: unknown): void {
    this.log.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0], status });
    const requestId = randomUUID();
    if (status >= 400 && body && typeof body === 'object' && 'error' in body) {
      (body as { error: Record<string, unknown> }).error.requestId = requestId;
    }
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  }

  private sendText(
    res: ServerResponse,
    req: IncomingMessage,
    status: number,
    text: string,
    type: string,
  ): void {
    this.log.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0], status });
    res.writeHead(status, { 'content-type': type, 'x-request-id': randomUUID() });
    res.end(text);
  }

  private error(
    res: ServerResponse,
    req: IncomingMessage,
    status: number,
    code: string,
    message: string,
  ): void {
    this.send(res, req, status, { error: { code, message } });
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private async json(req: IncomingMessage): Promise<Record<string, unknown>> {
    const b = await this.readBody(req);
    return b.length ? (JSON.parse(b.toString('utf8')) as Record<string, unknown>) : {};
  }

  private versionView(v: VersionRec): Record<string, unknown> {
    const files = [...v.files.values()].sort((a, b) => a.path.localeCompare(b.path));
    return {
      id: v.id,
      version: v.version,
      state: v.state,
      failureReason: v.failureReason,
      metadata: v.metadata,
      files,
      totalBytes: files.reduce((s, f) => s + f.size, 0),
      createdAt: v.createdAt,
    };
  }

  private uploadView(u: UploadRec): Record<string, unknown> {
    return {
      uploadId: u.uploadId,
      path: u.path,
      size: u.size,
      partSize: u.partSize,
      partCount: u.partCount,
      state: u.state,
      expiresAt: u.expiresAt,
      parts: [...u.parts.values()]
        .sort((a, b) => a.partNumber - b.partNumber)
        .map(({ partNumber, size, etag, sha256 }) => ({ partNumber, size, etag, sha256 })),
    };
  }

  private addFile(v: VersionRec, path: string, data: Buffer): FileRec {
    const rec = { path, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    v.files.set(path, rec);
    return rec;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const seg = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const role = auth ? this.keys[auth] : undefined;
    if (!role) {
      await this.readBody(req);
      return this.error(res, req, 401, 'unauthenticated', 'Invalid, expired or revoked API key');
    }
    if (role === 'inference') {
      await this.readBody(req);
      return this.error(res, req, 403, 'forbidden', 'A key with role "inference" may not call this endpoint');
    }
    if (seg[0] !== 'api' || seg[1] !== 'v1') return this.error(res, req, 404, 'not_found', 'Not found');
    const [, , area, a, b, c, d, e, ...rest] = seg;

    if (area === 'projects' && method === 'GET') {
      if (!a) return this.send(res, req, 200, { data: [{ id: this.projectId, name: 'p' }] });
      if (a === this.projectId) return this.send(res, req, 200, { id: this.projectId, name: 'p' });
      return this.error(res, req, 404, 'not_found', `Project ${a} not found`);
    }

    if (area === 'models') {
      if (!a && method === 'POST') {
        const body = await this.json(req);
        const name = String(body.name ?? '');
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
          return this.send(res, req, 400, {
            error: {
              code: 'validation_failed',
              message: 'Invalid request',
              issues: [{ field: 'name', message: 'must be a DNS label' }],
            },
          });
        }
        if (this.models.has(name))
          return this.error(res, req, 409, 'conflict', `Model ${name} already exists`);
        const m: ModelRec = {
          id: randomUUID(),
          name,
          projectId: this.projectId,
          description: typeof body.description === 'string' ? body.description : null,
          createdAt: new Date().toISOString(),
          versions: new Map(),
        };
        this.models.set(name, m);
        const { versions: _v, ...view } = m;
        return this.send(res, req, 201, view);
      }
      if (!a && method === 'GET') {
        return this.send(res, req, 200, {
          data: [...this.models.values()].map(({ versions: _v, ...view }) => view),
        });
      }
      const m = this.models.get(a);
      if (!m) {
        await this.readBody(req);
        return this.error(res, req, 404, 'not_found', `Model ${a} not found`);
      }
      if (!b && method === 'GET') {
        const { versions, ...view } = m;
        return this.send(res, req, 200, {
          ...view,
          versions: [...versions.values()].map((v) => ({ id: v.id, version: v.version, state: v.state })),
        });
      }
      if (b === 'versions' && !c && method === 'POST') {
        const body = await this.json(req);
        const version = String(body.version ?? '');
        if (m.versions.has(version))
          return this.error(res, req, 409, 'conflict', `Version ${version} already exists`);
        const v: VersionRec = {
          id: randomUUID(),
          version,
          state: 'UPLOADING',
          failureReason: null,
          metadata: null,
          files: new Map(),
          createdAt: new Date().toISOString(),
        };
        m.versions.set(version, v);
        return this.send(res, req, 201, this.versionView(v));
      }
      const v = b === 'versions' && c ? m.versions.get(c) : undefined;
      if (!v) {
        await this.readBody(req);
        return this.error(res, req, 404, 'not_found', `Version ${c} not found`);
      }
      if (!d && method === 'GET') return this.send(res, req, 200, this.versionView(v));
      if (d === 'files' && method === 'PUT') {
        const path = [e, ...rest].join('/');
        const data = await this.readBody(req);
        if (v.state !== 'UPLOADING' && v.state !== 'FAILED') {
          return this.error(res, req, 409, 'conflict', `Version is ${v.state}`);
        }
        const expected = req.headers['x-content-sha256'];
        const actual = createHash('sha256').update(data).digest('hex');
        if (expected && expected !== actual)
          return this.error(res, req, 400, 'validation_failed', 'sha256 mismatch');
        return this.send(res, req, 201, this.addFile(v, path, data));
      }
      if (d === 'uploads' && method === 'POST') {
        const body = await this.json(req);
        const size = Number(body.size);
        const u: UploadRec = {
          uploadId: randomUUID(),
          model: m.name,
          version: v.version,
          path: String(body.path),
          size,
          sha256: typeof body.sha256 === 'string' ? body.sha256 : undefined,
          partSize: this.partSize,
          partCount: Math.max(1, Math.ceil(size / this.partSize)),
          state: 'ACTIVE',
          parts: new Map(),
          expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        };
        this.uploads.set(u.uploadId, u);
        const { uploadId, partSize, partCount, expiresAt } = u;
        return this.send(res, req, 201, { uploadId, partSize, partCount, expiresAt });
      }
      if (d === 'finalize' && method === 'POST') {
        if (v.state === 'READY') return this.error(res, req, 409, 'conflict', `Version is ${v.state}`);
        v.state = 'VERIFYING';
        v.failureReason = null;
        setTimeout(() => {
          if (!v.files.has('config.json')) {
            v.state = 'FAILED';
            v.failureReason = 'config.json is missing: add it and upload to a new version';
          } else {
            v.state = 'READY';
            v.metadata = { fileCount: v.files.size, architecture: 'FakeForCausalLM' };
          }
        }, this.opts.verifyMs ?? 200);
        return this.send(res, req, 202, this.versionView(v));
      }
    }

    if (area === 'services') return this.handleServices(req, res, url, method, a, b);

    if (area === 'uploads' && a) {
      const u = this.uploads.get(a);
      if (!u) {
        await this.readBody(req);
        return this.error(res, req, 404, 'not_found', `Upload ${a} not found`);
      }
      if (!b && method === 'GET') return this.send(res, req, 200, this.uploadView(u));
      if (!b && method === 'DELETE') {
        u.state = 'ABORTED';
        return this.send(res, req, 204);
      }
      if (b === 'parts' && method === 'PUT') {
        const n = Number(c);
        const key = `${u.uploadId}/${n}`;
        const attempt = (this.attempts.get(key) ?? 0) + 1;
        this.attempts.set(key, attempt);
        const fault = this.partFault(n, attempt, u.uploadId);
        if (fault === 'drop') {
          req.socket.destroy();
          return;
        }
        this.partsInFlight++;
        this.maxPartsInFlight = Math.max(this.maxPartsInFlight, this.partsInFlight);
        let data: Buffer;
        try {
          data = await this.readBody(req);
          if (this.partDelayMs) await new Promise((r) => setTimeout(r, this.partDelayMs));
        } finally {
          this.partsInFlight--;
        }
        if (fault === 'error500') return this.error(res, req, 500, 'internal_error', 'Internal error');
        if (fault === 'gone') u.state = 'ABORTED';
        if (u.state !== 'ACTIVE') return this.error(res, req, 409, 'conflict', `Upload is ${u.state}`);
        if (!(n >= 1 && n <= u.partCount))
          return this.error(res, req, 400, 'validation_failed', 'bad part number');
        const expectedSize = n < u.partCount ? u.partSize : u.size - u.partSize * (u.partCount - 1);
        if (data.length !== expectedSize) {
          return this.error(res, req, 400, 'validation_failed', `part ${n} must be ${expectedSize} bytes`);
        }
        const sha256 = createHash('sha256').update(data).digest('hex');
        const expected = req.headers['x-content-sha256'];
        if (expected && expected !== sha256)
          return this.error(res, req, 400, 'validation_failed', 'sha256 mismatch');
        const part = { partNumber: n, size: data.length, etag: sha256.slice(0, 32), sha256, data };
        u.parts.set(n, part);
        const { data: _d, ...view } = part;
        return this.send(res, req, 200, view);
      }
      if (b === 'complete' && method === 'POST') {
        if (u.state !== 'ACTIVE') return this.error(res, req, 409, 'conflict', `Upload is ${u.state}`);
        const missing = [];
        for (let i = 1; i <= u.partCount; i++) if (!u.parts.has(i)) missing.push(i);
        if (missing.length)
          return this.error(res, req, 409, 'conflict', `Parts missing: ${missing.join(', ')}`);
        const data = Buffer.concat(
          [...u.parts.values()].sort((x, y) => x.partNumber - y.partNumber).map((p) => p.data),
        );
        const v = this.version(u.model, u.version)!;
        const sha = createHash('sha256').update(data).digest('hex');
        if (u.sha256 && u.sha256 !== sha)
          return this.error(res, req, 400, 'validation_failed', 'whole-file sha256 mismatch');
        u.state = 'COMPLETED';
        return this.send(res, req, 200, this.addFile(v, u.path, data));
      }
    }
    await this.readBody(req);
    return this.error(res, req, 404, 'not_found', `No route ${method} ${url.pathname}`);
  }

  /** Renders what the real server would deploy, enough to look like a LeaderWorkerSet. */
  private manifestOf(view: ServiceRec['view']): Record<string, unknown> {
    const spec = view.spec as {
      parallelism: { pipeline: number };
      replicas: { initial: number };
      engine: { image: string; extraArgs: string[] };
    };
    return {
      apiVersion: 'leaderworkerset.x-k8s.io/v1',
      kind: 'LeaderWorkerSet',
      metadata: { name: view.name, namespace: view.namespace },
      spec: {
        replicas: spec.replicas.initial,
        leaderWorkerTemplate: {
          size: spec.parallelism.pipeline,
          leaderTemplate: {
            spec: { containers: [{ name: 'vllm', image: spec.engine.image, args: spec.engine.extraArgs }] },
          },
        },
      },
    };
  }

  private async handleServices(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    name: string | undefined,
    sub: string | undefined,
  ): Promise<void> {
    const body = method === 'POST' ? await this.json(req) : (await this.readBody(req), undefined);
    this.serviceRequests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
    });
    if (!name && method === 'POST' && body) {
      const svcName = String(body.name ?? '');
      if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(svcName)) {
        return this.send(res, req, 400, {
          error: {
            code: 'validation_failed',
            message: 'Invalid request',
            issues: [{ field: 'name', message: 'must be a DNS-1035 label' }],
          },
        });
      }
      const model = String(body.model ?? '');
      const version = String(body.version ?? '');
      const v = this.version(model, version);
      const issues = [];
      if (!v) issues.push({ field: 'version', message: `model "${model}" has no version "${version}"` });
      else if (v.state !== 'READY')
        issues.push({
          field: 'version',
          message: `version "${version}" is ${v.state}; only READY versions can be served`,
        });
      const engine = (body.engine ?? {}) as {
        image?: string;
        extraArgs?: string[];
        env?: Record<string, string>;
      };
      for (const a of engine.extraArgs ?? []) {
        if (a.startsWith('--tensor-parallel-size'))
          issues.push({ field: 'engine.extraArgs', message: `${a} is set by Troupe; use parallelism` });
      }
      if (issues.length) {
        return this.send(res, req, 422, {
          error: {
            code: 'unprocessable',
            message: `Invalid service: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
            issues,
          },
        });
      }
      const par = (body.parallelism as { tensor: number; pipeline: number } | undefined) ?? {
        tensor: 8,
        pipeline: 1,
      };
      const rep = (body.replicas ?? {}) as { initial?: number; min?: number; max?: number };
      const initial = rep.initial ?? 1;
      const spec = {
        parallelism: par,
        gpusPerNode: body.gpusPerNode ?? 8,
        gpu: { resource: 'nvidia.com/gpu', ...((body.gpu as object | undefined) ?? {}) },
        replicas: { initial, min: rep.min ?? initial, max: rep.max ?? Math.max(initial, 1) },
        engine: { extraArgs: [], env: {}, ...engine },
        placement: {
          startupPolicy: 'LeaderCreated',
          restartPolicy: 'RecreateGroupOnPodRestart',
          ...((body.placement as object | undefined) ?? {}),
        },
        rollout: { maxUnavailable: 0, maxSurge: 1 },
      };
      const view: ServiceRec['view'] = {
        name: svcName,
        servedModelName: typeof body.servedModelName === 'string' ? body.servedModelName : svcName,
        namespace: typeof body.namespace === 'string' ? body.namespace : 'default',
        model: { name: model, version },
        spec,
        generation: 1,
        status: { phase: 'PENDING', reason: null, lastError: null, appliedGeneration: null, observed: null },
        createdAt: new Date(Date.now() - 90_000).toISOString(),
      };
      if (url.searchParams.get('dryRun') === 'true') {
        return this.send(res, req, 200, { dryRun: true, spec, manifest: this.manifestOf(view) });
      }
      if (this.services.has(svcName))
        return this.error(res, req, 409, 'conflict', `A service named "${svcName}" already exists`);
      const now = new Date().toISOString();
      this.services.set(svcName, {
        view,
        plan: [...this.servicePlan],
        events: [
          { type: 'Normal', reason: 'Created', message: 'service created', createdAt: now },
          {
            type: 'Normal',
            reason: 'Applied',
            message: 'LeaderWorkerSet applied',
            createdAt: new Date(Date.now() + 1000).toISOString(),
          },
        ].reverse(),
      });
      return this.send(res, req, 202, view);
    }
    if (!name && method === 'GET') {
      return this.send(res, req, 200, { data: [...this.services.values()].map((s) => s.view) });
    }
    const svc = name ? this.services.get(name) : undefined;
    if (!svc) return this.error(res, req, 404, 'not_found', `Service ${name} not found`);
    const view = svc.view;
    if (!sub && method === 'GET') {
      const step = svc.plan.length > 1 ? svc.plan.shift() : svc.plan[0];
      if (step && view.status.phase !== 'DELETING') {
        const desired = (view.spec.replicas as { initial: number }).initial;
        const ready = step.ready ?? 0;
        view.status = {
          phase: step.phase,
          reason: step.reason ?? null,
          lastError: step.lastError ?? null,
          appliedGeneration: 1,
          observed: {
            groups: { desired, current: desired, ready, updated: desired },
            leaderEndpoints: Array.from({ length: ready }, (_, g) => ({
              group: g,
              pod: `${view.name}-${g}`,
              ip: `10.0.0.${g + 10}`,
              port: 8000,
            })),
          },
        };
      }
      return this.send(res, req, 200, view);
    }
    if (!sub && method === 'DELETE') {
      view.status = { ...view.status, phase: 'DELETING', reason: 'deletion requested' };
      return this.send(res, req, 202, view);
    }
    if (sub === 'manifest' && method === 'GET') {
      const m = this.manifestOf(view);
      if (url.searchParams.get('format') === 'yaml')
        return this.sendText(res, req, 200, toYaml(m), 'application/yaml');
      return this.send(res, req, 200, m);
    }
    if (sub === 'events' && method === 'GET') return this.send(res, req, 200, { data: svc.events });
    return this.error(res, req, 404, 'not_found', `No route ${method} ${url.pathname}`);
  }
}
