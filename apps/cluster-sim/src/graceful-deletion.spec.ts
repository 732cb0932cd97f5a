import { afterEach, describe, expect, it } from 'vitest';
import { podGracePeriodSeconds } from './api/cluster-api';
import { startClusterSim, type ClusterSim } from './sim';
import type { KObject } from './types/meta';

describe('podGracePeriodSeconds', () => {
  const pod = (spec: Record<string, unknown>, phase?: string): KObject => ({
    metadata: { name: 'p' },
    spec: { containers: [], ...spec },
    ...(phase ? { status: { phase } } : {}),
  });
  it.each([
    ['unscheduled', pod({}), undefined, 0],
    ['bound, default', pod({ nodeName: 'n' }, 'Running'), undefined, 30],
    ['bound, the pod says 5', pod({ nodeName: 'n', terminationGracePeriodSeconds: 5 }), undefined, 5],
    ['bound, asked 0', pod({ nodeName: 'n' }, 'Running'), 0, 0],
    ['failed', pod({ nodeName: 'n' }, 'Failed'), undefined, 0],
  ])('%s', (_, p, asked, want) => {
    expect(podGracePeriodSeconds(p, asked)).toBe(want);
  });
});

describe('gracefulPodDeletion', () => {
  let sim: ClusterSim | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  const call = async (
    method: string,
    p: string,
    body?: unknown,
  ): Promise<{ status: number; json: KObject }> => {
    const res = await fetch(`${(sim as ClusterSim).url}${p}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as KObject };
  };

  it('marks a bound pod terminating; its kubelet stops it and confirms (the simulator’s own node)', async () => {
    sim = await startClusterSim({ nodes: 1, gracefulPodDeletion: true, crdPath: false });
    const seen: string[] = [];
    sim.store.subscribe((ev) => {
      if (ev.resource === 'pods' && ev.object.metadata.name === 'a')
        seen.push(`${ev.type}${ev.object.metadata.deletionTimestamp ? ' terminating' : ''}`);
    });
    await call('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'a' },
      spec: { containers: [{ name: 'm', image: 'nginx' }] },
    });
    for (let i = 0; i < 100 && !seen.includes('MODIFIED'); i++) await new Promise((r) => setTimeout(r, 5));
    const del = await call('DELETE', '/api/v1/namespaces/default/pods/a');
    expect(del.json.metadata).toMatchObject({ deletionGracePeriodSeconds: 30 });
    expect(del.json.metadata.deletionTimestamp).toBeDefined();
    for (let i = 0; i < 100 && !seen.includes('DELETED terminating'); i++)
      await new Promise((r) => setTimeout(r, 5));
    expect((await call('GET', '/api/v1/namespaces/default/pods/a')).status).toBe(404);
    expect(seen).toContain('MODIFIED terminating');
    expect(seen[seen.length - 1]).toBe('DELETED terminating');
  });

  it('keeps a pod nobody runs terminating until it is deleted with gracePeriodSeconds=0', async () => {
    sim = await startClusterSim({ nodes: 0, gracefulPodDeletion: true, crdPath: false });
    await call('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'b' },
      spec: { nodeName: 'elsewhere', containers: [{ name: 'm', image: 'nginx' }] },
    });
    expect(
      (await call('DELETE', '/api/v1/namespaces/default/pods/b')).json.metadata.deletionTimestamp,
    ).toBeDefined();
    // nobody runs node "elsewhere": it stays terminating until deleted with grace 0
    expect((await call('GET', '/api/v1/namespaces/default/pods/b')).status).toBe(200);
    await call('DELETE', '/api/v1/namespaces/default/pods/b?gracePeriodSeconds=0');
    expect((await call('GET', '/api/v1/namespaces/default/pods/b')).status).toBe(404);
  });
});
