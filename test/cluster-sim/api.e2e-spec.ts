// The REST API through @kubernetes/client-node: CRUD, optimistic concurrency, patches, selectors,
// pagination, errors, tables, discovery.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatchStrategy, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { expectApiError, startSim, type SimClients } from './helpers';

let c: SimClients;
beforeAll(async () => {
  c = await startSim({ nodes: 2 });
});
afterAll(() => c.close());

const cm = (name: string, data: Record<string, string>, labels?: Record<string, string>): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

describe('CRUD', () => {
  it('creates, reads, replaces and deletes with server-set metadata', async () => {
    const created = await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: cm('crud', { a: '1' }),
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.metadata?.managedFields?.[0]).toMatchObject({
      operation: 'Update',
      fieldsV1: { 'f:data': { 'f:a': {} } },
    });

    const read = await c.core.readNamespacedConfigMap({ namespace: 'default', name: 'crud' });
    expect(read.data).toEqual({ a: '1' });

    const replaced = await c.core.replaceNamespacedConfigMap({
      namespace: 'default',
      name: 'crud',
      body: { ...read, data: { a: '2' } },
    });
    expect(replaced.data).toEqual({ a: '2' });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(
      Number(read.metadata?.resourceVersion),
    );

    await c.core.deleteNamespacedConfigMap({ namespace: 'default', name: 'crud' });
    const missing = await expectApiError(
      c.core.readNamespacedConfigMap({ namespace: 'default', name: 'crud' }),
    );
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      message: 'configmaps "crud" not found',
      code: 404,
    });
  });

  it('answers 409 Conflict to a stale resourceVersion and AlreadyExists to a duplicate', async () => {
    const v1 = await c.core.createNamespacedConfigMap({ namespace: 'default', body: cm('occ', { a: '1' }) });
    await c.core.replaceNamespacedConfigMap({
      namespace: 'default',
      name: 'occ',
      body: { ...v1, data: { a: '2' } },
    });
    const stale = await expectApiError(
      c.core.replaceNamespacedConfigMap({
        namespace: 'default',
        name: 'occ',
        body: { ...v1, data: { a: '3' } },
      }),
    );
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict' });
    expect(String(stale.body.message)).toContain(
      'the object has been modified; please apply your changes to the latest version and try again',
    );
    const dup = await expectApiError(
      c.core.createNamespacedConfigMap({ namespace: 'default', body: cm('occ', {}) }),
    );
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "occ" already exists' });
  });

  it('does not bump resourceVersion on a no-op update', async () => {
    const v1 = await c.core.createNamespacedConfigMap({ namespace: 'default', body: cm('noop', { a: '1' }) });
    const v2 = await c.core.replaceNamespacedConfigMap({ namespace: 'default', name: 'noop', body: v1 });
    expect(v2.metadata?.resourceVersion).toBe(v1.metadata?.resourceVersion);
  });

  it('generates names and rejects invalid ones with 422', async () => {
    const gen = await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { generateName: 'gen-' }, data: {} },
    });
    expect(gen.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
    const bad = await expectApiError(
      c.core.createNamespacedConfigMap({ namespace: 'default', body: cm('Bad_Name', {}) }),
    );
    expect(bad.code).toBe(422);
    expect(bad.body).toMatchObject({
      reason: 'Invalid',
      details: { causes: [expect.objectContaining({ field: 'metadata.name' })] },
    });
  });

  it('creates in existing namespaces only, and cascades namespace deletion', async () => {
    const noNs = await expectApiError(
      c.core.createNamespacedConfigMap({ namespace: 'nope', body: cm('x', {}) }),
    );
    expect(noNs.body).toMatchObject({ code: 404, message: 'namespaces "nope" not found' });
    await c.core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    await c.core.createNamespacedConfigMap({ namespace: 'team-a', body: cm('x', {}) });
    await c.core.deleteNamespace({ name: 'team-a' });
    expect((await c.core.listNamespacedConfigMap({ namespace: 'team-a' })).items).toEqual([]);
  });
});

describe('delete options and dry run', () => {
  it('does not persist dryRun=All writes', async () => {
    const res = await fetch(`${c.sim.url}/api/v1/namespaces/default/configmaps?dryRun=All`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(cm('dry', { a: '1' })),
    });
    expect(res.status).toBe(201);
    const missing = await expectApiError(
      c.core.readNamespacedConfigMap({ namespace: 'default', name: 'dry' }),
    );
    expect(missing.code).toBe(404);
  });

  it('garbage-collects dependents in the background, or orphans them', async () => {
    const owner = await c.core.createNamespacedConfigMap({ namespace: 'default', body: cm('owner', {}) });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid as string };
    await c.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { ...cm('dep', {}), metadata: { name: 'dep', ownerReferences: [ref] } },
    });
    await c.core.deleteNamespacedConfigMap({
      namespace: 'default',
      name: 'owner',
      propagationPolicy: 'Orphan',
    });
    const orphan = await c.core.readNamespacedConfigMap({ namespace: 'default', name: 'dep' });
    expect(orphan.metadata?.ownerReferences).toBeUndefined();
    const owner2 = await c.core.createNamespacedConfigMap({ namespace: 'default', body: cm('owner2', {}) });
    await c.core.replaceNamespacedConfigMap({
      namespace: 'default',
      name: 'dep',
      body: {
        ...orphan,
        metadata: {
          ...orphan.metadata,
          ownerReferences: [{ ...ref, name: 'owner2', uid: owner2.metadata?.uid as string }],
        },
      },
    });
    await c.core.deleteNamespacedConfigMap({ namespace: 'default', name: 'owner2' });
    expect(
      (await expectApiError(c.core.readNamespacedConfigMap({ namespace: 'default', name: 'dep' }))).code,
    ).toBe(404);
  });
});

describe('patches', () => {
  it('applies merge, JSON and strategic merge patches', async () => {
    await c.core.createNamespacedConfigMap({ namespace: 'default', body: cm('patched', { a: '1', b: '2' }) });
    const merged = await c.core.patchNamespacedConfigMap(
      { namespace: 'default', name: 'patched', body: { data: { a: null, c: '3' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.data).toEqual({ b: '2', c: '3' });
    const json = await c.core.patchNamespacedConfigMap(
      { namespace: 'default', name: 'patched', body: [{ op: 'replace', path: '/data/b', value: '20' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(json.data).toEqual({ b: '20', c: '3' });
    const failed = await expectApiError(
      c.core.patchNamespacedConfigMap(
        { namespace: 'default', name: 'patched', body: [{ op: 'test', path: '/data/b', value: 'x' }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    expect(failed.code).toBe(422);

    await c.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'smp' },
        spec: {
          containers: [
            { name: 'a', image: 'a:1' },
            { name: 'b', image: 'b:1' },
          ],
        },
      },
    });
    const pod = await c.core.patchNamespacedPod(
      { namespace: 'default', name: 'smp', body: { spec: { containers: [{ name: 'b', image: 'b:2' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(pod.spec?.containers.map((x) => `${x.name}=${x.image}`)).toEqual(['a=a:1', 'b=b:2']);
  });

  it('refuses strategic merge patches on custom resources (415)', async () => {
    const err = await expectApiError(
      c.custom.patchNamespacedCustomObject(
        {
          group: 'leaderworkerset.x-k8s.io',
          version: 'v1',
          namespace: 'default',
          plural: 'leaderworkersets',
          name: 'x',
          body: {},
        },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(err.code).toBe(415);
  });
});

describe('selectors and lists', () => {
  beforeAll(async () => {
    for (const [name, tier, env] of [
      ['s1', 'web', 'prod'],
      ['s2', 'web', 'dev'],
      ['s3', 'db', 'prod'],
      ['s4', 'cache', ''],
    ]) {
      const labels: Record<string, string> = { suite: 'sel', tier };
      if (env) labels.env = env;
      await c.core.createNamespacedConfigMap({ namespace: 'default', body: cm(name, {}, labels) });
    }
  });

  const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
    (
      await c.core.listNamespacedConfigMap({
        namespace: 'default',
        labelSelector: `suite=sel${labelSelector ? `,${labelSelector}` : ''}`,
        fieldSelector,
      })
    ).items.map((i) => i.metadata?.name as string);

  it.each([
    ['tier=web', ['s1', 's2']],
    ['tier==web', ['s1', 's2']],
    ['tier!=web', ['s3', 's4']],
    ['tier in (db,cache)', ['s3', 's4']],
    ['tier notin (db,cache)', ['s1', 's2']],
    ['env', ['s1', 's2', 's3']],
    ['!env', ['s4']],
    ['tier=web,env=prod', ['s1']],
  ])('labelSelector %s', async (selector, expected) => {
    expect(await names(selector)).toEqual(expected);
  });

  it('supports field selectors and rejects unknown fields', async () => {
    expect(await names(undefined, 'metadata.name=s2')).toEqual(['s2']);
    expect(await names(undefined, 'metadata.name!=s2,metadata.namespace=default')).toEqual([
      's1',
      's3',
      's4',
    ]);
    const bad = await expectApiError(
      c.core.listNamespacedConfigMap({ namespace: 'default', fieldSelector: 'spec.foo=1' }),
    );
    expect(bad.body).toMatchObject({ code: 400, reason: 'BadRequest' });
    const badLabel = await expectApiError(
      c.core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'a b c' }),
    );
    expect(badLabel.code).toBe(400);
  });

  it('filters pods by status.phase and spec.nodeName', async () => {
    await c.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'fs' }, spec: { containers: [{ name: 'a', image: 'a' }] } },
    });
    const pod = await c.core.readNamespacedPod({ namespace: 'default', name: 'fs' });
    const byNode = await c.core.listNamespacedPod({
      namespace: 'default',
      fieldSelector: `spec.nodeName=${pod.spec?.nodeName ?? ''},metadata.name=fs`,
    });
    expect(byNode.items).toHaveLength(1);
    const running = await c.core.listPodForAllNamespaces({
      fieldSelector: 'status.phase=Running,metadata.name=fs',
    });
    expect(running.items.map((p) => p.metadata?.name)).toEqual(['fs']);
  });

  it('paginates with limit and continue', async () => {
    const first = await c.core.listNamespacedConfigMap({
      namespace: 'default',
      labelSelector: 'suite=sel',
      limit: 3,
    });
    expect(first.items.map((i) => i.metadata?.name)).toEqual(['s1', 's2', 's3']);
    expect(first.metadata?._continue).toBeTruthy();
    expect(first.metadata?.remainingItemCount).toBe(1);
    const rest = await c.core.listNamespacedConfigMap({
      namespace: 'default',
      labelSelector: 'suite=sel',
      limit: 3,
      _continue: first.metadata?._continue,
    });
    expect(rest.items.map((i) => i.metadata?.name)).toEqual(['s4']);
    expect(rest.metadata?._continue).toBeFalsy();
  });
});

describe('discovery and tables', () => {
  it('serves version, groups and resource lists', async () => {
    const version = (await (await fetch(`${c.sim.url}/version`)).json()) as Record<string, string>;
    expect(version).toMatchObject({ major: '1', minor: '32' });
    const lws = (await (await fetch(`${c.sim.url}/apis/leaderworkerset.x-k8s.io/v1`)).json()) as {
      resources: { name: string; shortNames?: string[]; kind: string; group?: string }[];
    };
    expect(lws.resources.find((r) => r.name === 'leaderworkersets')?.shortNames).toEqual(['lws']);
    expect(lws.resources.find((r) => r.name === 'leaderworkersets/scale')).toMatchObject({
      kind: 'Scale',
      group: 'autoscaling',
    });
    const apis = (await (await fetch(`${c.sim.url}/apis`)).json()) as { groups: { name: string }[] };
    expect(apis.groups.map((g) => g.name).sort()).toEqual([
      'apps',
      'coordination.k8s.io',
      'leaderworkerset.x-k8s.io',
    ]);
  });

  it('returns meta.k8s.io/v1 Tables for pods when asked', async () => {
    const res = await fetch(`${c.sim.url}/api/v1/namespaces/default/pods`, {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    const table = (await res.json()) as {
      kind: string;
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[] }[];
    };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.slice(0, 5).map((d) => d.name)).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
    ]);
    expect(table.rows.find((r) => r.cells[0] === 'fs')?.cells.slice(1, 4)).toEqual(['1/1', 'Running', '0']);
  });

  it('answers Status errors for unknown paths and methods', async () => {
    const res = await fetch(`${c.sim.url}/api/v1/widgets`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    const post = await fetch(`${c.sim.url}/api/v1/namespaces/default/configmaps/s1`, {
      method: 'POST',
      body: '{}',
    });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({ reason: 'MethodNotAllowed' });
  });
});
