// Discovery documents: /version, /api, /apis, group-version resource lists, /openapi/v3.

import { apiVersionOf, type Registry, type ResourceDef } from '../resources';
import type { LwsCrd } from '../../lws/crd';
import { LWS_GROUP, LWS_KIND, LWS_VERSION } from '../../lws/constants';
import { shortHash } from '../../util/hash';

export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-troupe-sim' };

export function versionInfo(): Record<string, string> {
  return {
    ...KUBE_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(group: string, versions: string[]): unknown {
  const vs = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(registry: Registry): unknown {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...registry.groups()].map(([g, v]) => groupDoc(g, v)),
  };
}

export function apiGroup(registry: Registry, group: string): unknown | undefined {
  const versions = registry.groups().get(group);
  return versions
    ? { kind: 'APIGroup', apiVersion: 'v1', ...(groupDoc(group, versions) as object) }
    : undefined;
}

function resourceEntries(def: ResourceDef): unknown[] {
  const main: Record<string, unknown> = {
    name: def.plural,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: def.verbs,
    storageVersionHash: shortHash(def.id, 12),
  };
  if (def.shortNames.length) main.shortNames = def.shortNames;
  if (def.categories) main.categories = def.categories;
  const out: unknown[] = [main];
  if (def.statusSubresource) {
    out.push({
      name: `${def.plural}/status`,
      singularName: '',
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: ['get', 'patch', 'update'],
    });
  }
  if (def.scale) {
    out.push({
      name: `${def.plural}/scale`,
      singularName: '',
      namespaced: def.namespaced,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    });
  }
  for (const sub of def.extraSubresources ?? []) {
    out.push({
      name: `${def.plural}/${sub}`,
      singularName: '',
      namespaced: def.namespaced,
      kind: sub === 'log' ? 'Pod' : def.kind,
      verbs: ['get'],
    });
  }
  return out;
}

export function resourceList(registry: Registry, group: string, version: string): unknown | undefined {
  const defs = registry.inGroupVersion(group, version);
  if (defs.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: defs.flatMap(resourceEntries),
  };
}

// ---------------------------------------------------------------- OpenAPI v3

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
}));

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiRoot(registry: Registry): unknown {
  const gvs = new Set(registry.all().map((d) => gvPath(d.group, d.version)));
  const paths: Record<string, unknown> = {};
  for (const gv of gvs)
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${shortHash(gv, 16).toUpperCase()}` };
  return { paths };
}

function schemaName(def: ResourceDef): string {
  return def.group === LWS_GROUP
    ? 'io.x-k8s.leaderworkerset.v1.LeaderWorkerSet'
    : `io.k8s.api.${def.group || 'core'}.${def.version}.${def.kind}`;
}

/** A minimal OpenAPI v3 document: enough for kubectl's server-side field validation check and `explain`. */
export function openApiGroupVersion(
  registry: Registry,
  gvPathText: string,
  crd: LwsCrd,
): unknown | undefined {
  const defs = registry.all().filter((d) => gvPath(d.group, d.version) === gvPathText);
  if (defs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const def of defs) {
    const gvk = { group: def.group, version: def.version, kind: def.kind };
    const base = `/${gvPathText}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.plural}`;
    const ref = { $ref: `#/components/schemas/${schemaName(def)}` };
    const op = (action: string, params = QUERY_PARAMS): unknown => ({
      tags: [gvPathText],
      operationId: `${action}${def.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: params,
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } },
    });
    paths[base] = { get: op('list', []), post: op('post') };
    paths[`${base}/{name}`] = {
      get: op('get', []),
      put: op('put'),
      patch: op('patch'),
      delete: op('delete', []),
    };
    const schema =
      def.group === LWS_GROUP && def.version === LWS_VERSION && def.kind === LWS_KIND
        ? crd.schema
        : {
            type: 'object',
            description: `${def.kind} (schema not published by the simulator)`,
            'x-kubernetes-preserve-unknown-fields': true,
          };
    schemas[schemaName(def)] = {
      ...schema,
      'x-kubernetes-group-version-kind': [{ group: def.group, kind: def.kind, version: def.version }],
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (troupe cluster-sim)', version: KUBE_VERSION.gitVersion },
    paths,
    components: { schemas },
  };
}

export { apiVersionOf };
