// The Kubernetes REST API over Node's http module.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { LwsCrd } from '../../lws/crd';
import { parseFieldSelector, unsupportedField } from '../../selectors/field-selector';
import { parseLabelSelector, SelectorParseError } from '../../selectors/label-selector';
import type { WatchHub } from '../../store/watch-hub';
import type { KObject } from '../../types/meta';
import { isObject } from '../../util/json';
import { PATCH_TYPES, type ClusterApi, type ListOptions, type WriteOptions } from '../cluster-api';
import { ApiError, badRequest, methodNotAllowed, unsupportedMediaType } from '../errors';
import { apiVersionOf, type ResourceDef } from '../resources';
import { buildTable, partialMetadata } from '../table';
import {
  apiGroup,
  apiGroupList,
  apiVersions,
  openApiGroupVersion,
  openApiRoot,
  resourceList,
  versionInfo,
} from './discovery';
import { parseResourcePath, type ResourcePath } from './paths';
import { decodeProtobufObject, ProtobufError } from './protobuf';
import {
  parseAccept,
  parseJsonBody,
  readBodyBytes,
  sendError,
  sendJson,
  sendText,
  type Accept,
} from './respond';
import { parse as parseYaml } from 'yaml';
import { WatchStreams } from './watch';

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export interface HttpOptions {
  api: ClusterApi;
  hub: WatchHub;
  crd: LwsCrd;
  bookmarkIntervalMs: number;
  admin?: AdminHandler;
  podLog?: (namespace: string, name: string, container?: string) => string;
}

const NOT_FOUND = new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

/** fieldManager for non-apply writes: the user agent's product name, as the API server derives it. */
function managerFromUserAgent(req: IncomingMessage): string {
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0].slice(0, 128) || 'unknown';
}

export class KubeHttpServer {
  readonly server: http.Server;
  private readonly watches: WatchStreams;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly o: HttpOptions) {
    this.watches = new WatchStreams(
      o.api.store,
      o.hub,
      (f) => o.api.list(o.api.def(f.resource), f.namespace, { labels: f.labels, fields: f.fields }),
      o.bookmarkIntervalMs,
    );
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => this.fail(res, e));
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    this.watches.closeAll();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  get openWatches(): number {
    return this.watches.count;
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof ApiError) return sendError(res, e);
    if (e instanceof SelectorParseError)
      return sendError(res, badRequest(`unable to parse requirement: ${e.message}`));
    sendError(
      res,
      new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error)?.message ?? String(e)}`),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/sim' || path.startsWith('/sim/')) {
      if (!this.o.admin) throw NOT_FOUND;
      return this.o.admin(req, res, url);
    }
    const { api } = this.o;
    if (req.method === 'GET' || req.method === 'HEAD') {
      switch (path) {
        case '/version':
          return sendJson(res, 200, versionInfo());
        case '/healthz':
        case '/livez':
        case '/readyz':
          return sendText(res, 200, 'ok');
        case '/api':
          return sendJson(res, 200, apiVersions(req.headers.host ?? '127.0.0.1'));
        case '/apis':
          return sendJson(res, 200, apiGroupList(api.registry));
        case '/openapi/v3':
          return sendJson(res, 200, openApiRoot(api.registry));
        case '/openapi/v2':
          throw NOT_FOUND;
      }
      if (path.startsWith('/openapi/v3/')) {
        const doc = openApiGroupVersion(api.registry, path.slice('/openapi/v3/'.length), this.o.crd);
        if (!doc) throw NOT_FOUND;
        return sendJson(res, 200, doc);
      }
      const seg = path.split('/').filter(Boolean);
      if (seg[0] === 'api' && seg.length === 2) {
        const doc = resourceList(api.registry, '', seg[1]);
        if (!doc) throw NOT_FOUND;
        return sendJson(res, 200, doc);
      }
      if (seg[0] === 'apis' && seg.length === 2) {
        const doc = apiGroup(api.registry, seg[1]);
        if (!doc) throw NOT_FOUND;
        return sendJson(res, 200, doc);
      }
      if (seg[0] === 'apis' && seg.length === 3) {
        const doc = resourceList(api.registry, seg[1], seg[2]);
        if (!doc) throw NOT_FOUND;
        return sendJson(res, 200, doc);
      }
    }
    const parsed = parseResourcePath(api.registry, path);
    if (parsed.kind !== 'resource') throw NOT_FOUND;
    return this.handleResource(req, res, parsed.path, url);
  }

  private writeOptions(req: IncomingMessage, q: URLSearchParams): WriteOptions {
    const dryRun = q.getAll('dryRun');
    if (dryRun.some((d) => d !== 'All'))
      throw badRequest(`Invalid value: "${dryRun.join(',')}": supported values: "All"`);
    return {
      fieldManager: q.get('fieldManager') ?? undefined,
      dryRun: dryRun.includes('All'),
      force: q.get('force') === 'true',
      fieldValidation: q.get('fieldValidation') ?? undefined,
      warnings: [],
    };
  }

  private listOptions(def: ResourceDef, q: URLSearchParams): ListOptions {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'));
    const bad = unsupportedField(fields, ['metadata.name', 'metadata.namespace', ...def.fieldSelectors]);
    if (bad) throw badRequest(`field label not supported: ${bad}`);
    return { labels, fields };
  }

  private respondObject(
    res: ServerResponse,
    code: number,
    def: ResourceDef,
    obj: KObject,
    accept: Accept,
    q: URLSearchParams,
    warnings?: string[],
  ): void {
    const headers: Record<string, string> = {};
    if (warnings?.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
    if (accept === 'table' && def.columns && def.cells) {
      return sendJson(
        res,
        code,
        buildTable(
          def.columns,
          def.cells,
          [obj],
          q.get('includeObject') ?? 'Metadata',
          obj.metadata.resourceVersion ?? '',
        ),
        headers,
      );
    }
    if (accept === 'partial') return sendJson(res, code, partialMetadata(obj), headers);
    sendJson(res, code, obj, headers);
  }

  private async handleResource(
    req: IncomingMessage,
    res: ServerResponse,
    p: ResourcePath,
    url: URL,
  ): Promise<void> {
    const { api } = this.o;
    const { def, namespace, name, subresource } = p;
    const q = url.searchParams;
    const accept = parseAccept(req.headers.accept);
    const method = req.method ?? 'GET';
    if (subresource && !['status', 'scale', ...(def.extraSubresources ?? [])].includes(subresource))
      throw NOT_FOUND;
    if (subresource === 'status' && !def.statusSubresource) throw NOT_FOUND;
    if (subresource === 'scale' && !def.scale) throw NOT_FOUND;

    if (method === 'GET' || method === 'HEAD') {
      if (name) {
        if (subresource === 'scale') return sendJson(res, 200, api.getScale(def, namespace, name));
        if (subresource === 'log') {
          api.get(def, namespace, name);
          const text = this.o.podLog?.(namespace ?? 'default', name, q.get('container') ?? undefined) ?? '';
          return sendText(res, 200, text);
        }
        return this.respondObject(res, 200, def, api.get(def, namespace, name), accept, q);
      }
      const opts = this.listOptions(def, q);
      if (q.get('watch') === '1' || q.get('watch') === 'true') {
        const timeout = q.get('timeoutSeconds');
        this.watches.serve(req, res, {
          def,
          filter: {
            resource: def.id,
            namespace: def.namespaced ? namespace : undefined,
            labels: opts.labels ?? [],
            fields: opts.fields ?? [],
          },
          resourceVersion: q.get('resourceVersion') ?? undefined,
          sendInitialEvents: q.get('sendInitialEvents') === 'true',
          allowBookmarks: q.get('allowWatchBookmarks') === 'true',
          timeoutSeconds: timeout ? Number(timeout) : undefined,
          accept,
          includeObject: q.get('includeObject') ?? 'Metadata',
        });
        return;
      }
      return this.list(res, def, namespace, opts, q, accept);
    }

    const raw = await readBodyBytes(req);
    const body = raw.toString('utf8');
    const opts = this.writeOptions(req, q);
    const contentType = (req.headers['content-type'] ?? 'application/json')
      .split(';')[0]
      .trim()
      .toLowerCase();
    /** Body of POST / PUT: JSON, YAML, or the protobuf kubectl sends for a few built-in kinds. */
    const decoded = (): unknown => {
      if (contentType === 'application/vnd.kubernetes.protobuf') {
        try {
          return decodeProtobufObject(raw);
        } catch (e) {
          if (e instanceof ProtobufError) {
            throw unsupportedMediaType(contentType, ['application/json', 'application/yaml']);
          }
          throw e;
        }
      }
      if (contentType === 'application/yaml') {
        try {
          return parseYaml(body) as unknown;
        } catch (e) {
          throw badRequest(`error decoding YAML: ${(e as Error).message}`);
        }
      }
      return parseJsonBody(body);
    };
    switch (method) {
      case 'POST': {
        if (name) throw methodNotAllowed();
        opts.fieldManager ??= managerFromUserAgent(req);
        const created = api.create(def, namespace, decoded(), opts);
        return this.respondObject(res, 201, def, created, accept, q, opts.warnings);
      }
      case 'PUT': {
        if (!name) throw methodNotAllowed();
        opts.fieldManager ??= managerFromUserAgent(req);
        if (subresource === 'scale')
          return sendJson(res, 200, api.updateScale(def, namespace, name, decoded(), opts));
        if (subresource === 'log') throw methodNotAllowed();
        opts.subresource = subresource === 'status' ? 'status' : undefined;
        const updated = api.update(def, namespace, name, decoded(), opts);
        return this.respondObject(res, 200, def, updated, accept, q, opts.warnings);
      }
      case 'PATCH': {
        if (!name) throw methodNotAllowed();
        const isApply = contentType.startsWith(PATCH_TYPES.apply);
        if (!isApply) opts.fieldManager ??= managerFromUserAgent(req);
        if (subresource === 'scale')
          return sendJson(res, 200, api.patchScale(def, namespace, name, contentType, body, opts));
        if (subresource === 'log') throw methodNotAllowed();
        opts.subresource = subresource === 'status' ? 'status' : undefined;
        const existed = isApply ? api.tryGet(def, namespace, name) !== undefined : true;
        const patched = api.patch(def, namespace, name, contentType, body, opts);
        return this.respondObject(res, existed ? 200 : 201, def, patched, accept, q, opts.warnings);
      }
      case 'DELETE': {
        if (subresource) throw methodNotAllowed();
        const options = parseJsonBody(body);
        const delOpts = isObject(options) ? options : {};
        const propagationPolicy = (q.get('propagationPolicy') ?? delOpts.propagationPolicy) as
          string | undefined;
        const preconditions = isObject(delOpts.preconditions)
          ? (delOpts.preconditions as { uid?: string; resourceVersion?: string })
          : undefined;
        const dryRun = opts.dryRun || (Array.isArray(delOpts.dryRun) && delOpts.dryRun.includes('All'));
        const graceText = q.get('gracePeriodSeconds');
        const gracePeriodSeconds =
          graceText !== null && graceText !== '' && Number.isFinite(Number(graceText))
            ? Number(graceText)
            : typeof delOpts.gracePeriodSeconds === 'number'
              ? delOpts.gracePeriodSeconds
              : undefined;
        if (!name) {
          const deleted = api.deleteCollection(def, namespace, {
            ...this.listOptions(def, q),
            propagationPolicy,
            gracePeriodSeconds,
            dryRun,
          });
          return sendJson(res, 200, {
            kind: `${def.kind}List`,
            apiVersion: apiVersionOf(def),
            metadata: { resourceVersion: String(api.store.currentRv()) },
            items: deleted,
          });
        }
        const gone = api.delete(def, namespace, name, {
          propagationPolicy,
          preconditions,
          gracePeriodSeconds,
          dryRun,
        });
        if (def.crd) {
          return sendJson(res, 200, {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: { name, group: def.group, kind: def.plural, uid: gone.metadata.uid },
          });
        }
        return this.respondObject(res, 200, def, gone, accept, q);
      }
      default:
        throw methodNotAllowed();
    }
  }

  private list(
    res: ServerResponse,
    def: ResourceDef,
    namespace: string | undefined,
    opts: ListOptions,
    q: URLSearchParams,
    accept: Accept,
  ): void {
    const { api } = this.o;
    let items = api.list(def, namespace, opts);
    const rv = String(api.store.currentRv());
    const limit = Number(q.get('limit') ?? 0);
    const token = q.get('continue');
    if (token) {
      let start: string;
      try {
        start = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { start: string }).start;
      } catch {
        throw badRequest(
          'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
        );
      }
      items = items.filter((o) => keyOf(o) > start);
    }
    const metadata: Record<string, unknown> = { resourceVersion: rv };
    if (limit > 0 && items.length > limit) {
      const remaining = items.length - limit;
      items = items.slice(0, limit);
      metadata.continue = Buffer.from(JSON.stringify({ rv, start: keyOf(items[items.length - 1]) })).toString(
        'base64url',
      );
      metadata.remainingItemCount = remaining;
    }
    if (accept === 'table' && def.columns && def.cells) {
      const table = buildTable(def.columns, def.cells, items, q.get('includeObject') ?? 'Metadata', rv);
      if (metadata.continue) table.metadata.continue = metadata.continue as string;
      return sendJson(res, 200, table);
    }
    if (accept === 'partial') {
      return sendJson(res, 200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata,
        items: items.map(partialMetadata),
      });
    }
    sendJson(res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata, items });
  }
}

function keyOf(o: KObject): string {
  return `${o.metadata.namespace ?? ''}\u0000${o.metadata.name ?? ''}`;
}
