// Parsing of resource URLs: /api/v1/..., /apis/<group>/<version>/... (pure).

import type { Registry, ResourceDef } from '../resources';

export interface ResourcePath {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export type ParsedPath = { kind: 'resource'; path: ResourcePath } | { kind: 'notFound' } | { kind: 'other' };

export function parseResourcePath(registry: Registry, pathname: string): ParsedPath {
  const seg = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (seg[0] === 'api' && seg.length >= 3) {
    group = '';
    version = seg[1];
    rest = seg.slice(2);
  } else if (seg[0] === 'apis' && seg.length >= 4) {
    group = seg[1];
    version = seg[2];
    rest = seg.slice(3);
  } else return { kind: 'other' };

  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const def = registry.find(group, version, rest[2]);
    if (def && def.namespaced) {
      if (rest.length > 5) return { kind: 'notFound' };
      return { kind: 'resource', path: { def, namespace: rest[1], name: rest[3], subresource: rest[4] } };
    }
  }
  const def = registry.find(group, version, rest[0]);
  if (!def || rest.length > 3) return { kind: 'notFound' };
  // A namespaced resource listed across all namespaces: /api/v1/pods
  if (def.namespaced && rest.length > 1) return { kind: 'notFound' };
  return { kind: 'resource', path: { def, name: rest[1], subresource: rest[2] } };
}
