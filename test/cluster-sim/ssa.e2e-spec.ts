// Server-side apply through KubernetesObjectApi: managedFields per manager, conflicts, force, removal.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { errorBody, expectApiError, lwsManifest, startSim, type SimClients } from './helpers';

let c: SimClients;
beforeAll(async () => {
  c = await startSim({ nodes: 2 });
});
afterAll(() => c.close());

type Lws = KubernetesObject & { spec: { replicas: number; leaderWorkerTemplate: { size: number } } };

const apply = (obj: object, manager: string, force = false): Promise<Lws> =>
  c.objects.patch(obj as Lws, undefined, undefined, manager, force, PatchStrategy.ServerSideApply);

describe('server-side apply', () => {
  it('creates with apply and records the manager', async () => {
    const lws = await apply(lwsManifest({ name: 'ssa', replicas: 2, size: 2 }), 'platform');
    expect(lws.spec.replicas).toBe(2);
    const entry = lws.metadata?.managedFields?.find((m) => m.manager === 'platform');
    expect(entry).toMatchObject({ operation: 'Apply', fieldsType: 'FieldsV1' });
    expect(entry?.fieldsV1).toMatchObject({
      'f:spec': { 'f:replicas': {}, 'f:leaderWorkerTemplate': { 'f:size': {} } },
    });
  });

  it('conflicts with another applier on a differing value, naming field and manager', async () => {
    let err: unknown;
    try {
      await apply(lwsManifest({ name: 'ssa', replicas: 5, size: 2 }), 'autoscaler');
    } catch (e) {
      err = e;
    }
    expect((err as { code: number }).code).toBe(409);
    const status = errorBody(err);
    expect(status).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
    expect(status.message).toBe('Apply failed with 1 conflict: conflict with "platform": .spec.replicas');
    expect((status.details as { causes: unknown[] }).causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "platform"', field: '.spec.replicas' },
    ]);
  });

  it('shares ownership of equal values, and force takes ownership', async () => {
    const same = await apply(lwsManifest({ name: 'ssa', replicas: 2, size: 2 }), 'auditor');
    expect(same.metadata?.managedFields?.map((m) => m.manager).sort()).toEqual(['auditor', 'platform']);
    const forced = await apply(
      {
        apiVersion: 'leaderworkerset.x-k8s.io/v1',
        kind: 'LeaderWorkerSet',
        metadata: { name: 'ssa', namespace: 'default' },
        spec: { replicas: 3 },
      },
      'autoscaler',
      true,
    );
    expect(forced.spec.replicas).toBe(3);
    const platform = forced.metadata?.managedFields?.find((m) => m.manager === 'platform');
    expect(JSON.stringify(platform?.fieldsV1)).not.toContain('f:replicas');
    const autoscaler = forced.metadata?.managedFields?.find((m) => m.manager === 'autoscaler');
    expect(autoscaler?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('removes fields a manager stops applying (defaults come back)', async () => {
    const base = lwsManifest({ name: 'ssa-rm', replicas: 1, size: 3 }) as {
      metadata: { labels?: Record<string, string> };
    };
    base.metadata.labels = { team: 'a' };
    await apply(base, 'platform');
    const without = lwsManifest({ name: 'ssa-rm', replicas: 1 }) as {
      spec: { leaderWorkerTemplate: { size?: number } };
    };
    delete without.spec.leaderWorkerTemplate.size;
    const after = await apply(without, 'platform');
    expect(after.metadata?.labels).toBeUndefined();
    expect(after.spec.leaderWorkerTemplate.size).toBe(1);
  });

  it('requires a field manager and answers conflicts from Update managers too', async () => {
    const noManager = await fetch(
      `${c.sim.url}/apis/leaderworkerset.x-k8s.io/v1/namespaces/default/leaderworkersets/ssa`,
      {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/apply-patch+yaml' },
        body: JSON.stringify(lwsManifest({ name: 'ssa' })),
      },
    );
    expect(noManager.status).toBe(422);
    // kubectl scale-like write through /scale by another manager
    await fetch(
      `${c.sim.url}/apis/leaderworkerset.x-k8s.io/v1/namespaces/default/leaderworkersets/ssa/scale?fieldManager=kubectl-scale`,
      {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/merge-patch+json' },
        body: JSON.stringify({ spec: { replicas: 7 } }),
      },
    );
    const err = await expectApiError(apply(lwsManifest({ name: 'ssa', replicas: 3, size: 2 }), 'autoscaler'));
    expect(err.code).toBe(409);
    expect(String(err.body.message)).toContain(
      'conflict with "kubectl-scale" with subresource "scale" using leaderworkerset.x-k8s.io/v1',
    );
  });

  it('rejects fields the CRD schema does not declare', async () => {
    const manifest = lwsManifest({ name: 'ssa-unknown' }) as { spec: Record<string, unknown> };
    manifest.spec.bogus = true;
    const err = await expectApiError(apply(manifest, 'platform'));
    expect(err.code).toBe(400);
    expect(String(err.body.message)).toContain('.spec.bogus: field not declared in schema');
  });
});
