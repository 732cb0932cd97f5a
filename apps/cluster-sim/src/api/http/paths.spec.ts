import { describe, expect, it } from 'vitest';
import { buildRegistry } from '../../kinds';
import { loadLwsCrd } from '../../lws/crd';
import { parseResourcePath } from './paths';

const registry = buildRegistry({ crd: loadLwsCrd(false), allocateClusterIP: () => '10.96.0.1' });

function describePath(p: string): string {
  const r = parseResourcePath(registry, p);
  if (r.kind !== 'resource') return r.kind;
  return [r.path.def.id, r.path.namespace ?? '-', r.path.name ?? '-', r.path.subresource ?? '-'].join(' ');
}

describe('parseResourcePath', () => {
  it.each([
    ['/api/v1/pods', 'pods - - -'],
    ['/api/v1/namespaces/default/pods', 'pods default - -'],
    ['/api/v1/namespaces/default/pods/p1', 'pods default p1 -'],
    ['/api/v1/namespaces/default/pods/p1/status', 'pods default p1 status'],
    ['/api/v1/namespaces', 'namespaces - - -'],
    ['/api/v1/namespaces/default', 'namespaces - default -'],
    ['/api/v1/namespaces/default/status', 'namespaces - default status'],
    ['/api/v1/nodes/n1', 'nodes - n1 -'],
    ['/apis/apps/v1/namespaces/x/statefulsets/s/scale', 'apps/statefulsets x s scale'],
    [
      '/apis/leaderworkerset.x-k8s.io/v1/namespaces/default/leaderworkersets/w/scale',
      'leaderworkerset.x-k8s.io/leaderworkersets default w scale',
    ],
    ['/apis/leaderworkerset.x-k8s.io/v1/leaderworkersets', 'leaderworkerset.x-k8s.io/leaderworkersets - - -'],
    ['/api/v1/widgets', 'notFound'],
    ['/api/v1/pods/p1', 'notFound'],
    ['/apis/apps/v2/namespaces/x/statefulsets', 'notFound'],
    ['/version', 'other'],
  ])('%s', (path, expected) => {
    expect(describePath(path)).toBe(expected);
  });
});
