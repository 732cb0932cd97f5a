// LeaderWorkerSet validation and defaulting against the upstream CRD schema (../shared/reference, when
// present) and against the built-in condensed schema: 422 Invalid with field causes.

import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectApiError, LWS, lwsManifest, startSim, UPSTREAM_CRD, type SimClients } from './helpers';

type Body = Record<string, unknown>;
type Cause = { reason: string; message: string; field: string };

const variants = [
  { name: 'upstream CRD', crdPath: UPSTREAM_CRD as string | false, present: fs.existsSync(UPSTREAM_CRD) },
  { name: 'condensed schema', crdPath: false as string | false, present: true },
];

type Manifest = { metadata: Body; spec: Body & { leaderWorkerTemplate: Body & { workerTemplate?: Body } } };

function mutate(fn: (m: Manifest) => void): Body {
  const m = lwsManifest({ name: 'v' }) as Manifest;
  fn(m);
  return m;
}

for (const v of variants) {
  describe.skipIf(!v.present)(`validation with the ${v.name}`, () => {
    let c: SimClients;
    beforeAll(async () => {
      c = await startSim({ nodes: 1, crdPath: v.crdPath });
      expect(c.sim.crdSource).toBe(v.crdPath === false ? 'condensed' : UPSTREAM_CRD);
    });
    afterAll(() => c.close());

    const invalid = async (body: Body): Promise<{ message: string; causes: Cause[] }> => {
      const err = await expectApiError(
        c.custom.createNamespacedCustomObject({ ...LWS, namespace: 'default', body }),
      );
      expect(err.code).toBe(422);
      expect(err.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Invalid', code: 422 });
      const details = err.body.details as { causes: Cause[]; kind: string; group: string };
      expect(details).toMatchObject({ kind: 'LeaderWorkerSet', group: 'leaderworkerset.x-k8s.io' });
      return { message: String(err.body.message), causes: details.causes };
    };

    it('applies the schema and webhook defaults', async () => {
      const created = (await c.custom.createNamespacedCustomObject({
        ...LWS,
        namespace: 'default',
        body: mutate((m) => {
          delete m.spec.replicas;
          delete m.spec.leaderWorkerTemplate.size;
          delete m.spec.leaderWorkerTemplate.restartPolicy;
        }),
      })) as { spec: Body; metadata: { generation: number } };
      expect(created.metadata.generation).toBe(1);
      expect(created.spec).toMatchObject({
        replicas: 1,
        startupPolicy: 'LeaderCreated',
        leaderWorkerTemplate: { size: 1, restartPolicy: 'RecreateGroupOnPodRestart' },
        rolloutStrategy: {
          type: 'RollingUpdate',
          rollingUpdateConfiguration: { maxUnavailable: 1, maxSurge: 0, partition: 0 },
        },
        networkConfig: { subdomainPolicy: 'Shared' },
      });
      await c.custom.deleteNamespacedCustomObject({ ...LWS, namespace: 'default', name: 'v' });
    });

    it('defaults a partial rollingUpdateConfiguration from the schema', async () => {
      const created = (await c.custom.createNamespacedCustomObject({
        ...LWS,
        namespace: 'default',
        body: mutate((m) => {
          m.spec.rolloutStrategy = { type: 'RollingUpdate', rollingUpdateConfiguration: { maxSurge: '50%' } };
        }),
      })) as { spec: { rolloutStrategy: Body } };
      expect(created.spec.rolloutStrategy).toEqual({
        type: 'RollingUpdate',
        rollingUpdateConfiguration: { maxSurge: '50%', maxUnavailable: 1, partition: 0 },
      });
      await c.custom.deleteNamespacedCustomObject({ ...LWS, namespace: 'default', name: 'v' });
    });

    it('rejects size 0', async () => {
      const { causes, message } = await invalid(mutate((m) => (m.spec.leaderWorkerTemplate.size = 0)));
      expect(causes).toHaveLength(1);
      expect(causes[0]).toMatchObject({
        reason: 'FieldValueInvalid',
        field: 'spec.leaderWorkerTemplate.size',
      });
      // The upstream CRD has no minimum for size: its webhook rejects it; the condensed schema has minimum 1.
      expect(causes[0].message).toMatch(
        /^Invalid value: 0: (size must be equal or greater than 1|spec\.leaderWorkerTemplate\.size in body should be greater than or equal to 1)$/,
      );
      expect(message).toBe(
        `LeaderWorkerSet.leaderworkerset.x-k8s.io "v" is invalid: spec.leaderWorkerTemplate.size: ${causes[0].message}`,
      );
    });

    it('rejects values outside enums', async () => {
      const { causes } = await invalid(
        mutate((m) => {
          m.spec.leaderWorkerTemplate.restartPolicy = 'Sometimes';
          m.spec.startupPolicy = 'Eventually';
        }),
      );
      expect(causes).toContainEqual({
        reason: 'FieldValueNotSupported',
        field: 'spec.leaderWorkerTemplate.restartPolicy',
        message:
          'Unsupported value: "Sometimes": supported values: "Default", "RecreateGroupOnPodRestart", "None"',
      });
      expect(causes).toContainEqual({
        reason: 'FieldValueNotSupported',
        field: 'spec.startupPolicy',
        message: 'Unsupported value: "Eventually": supported values: "LeaderCreated", "LeaderReady"',
      });
    });

    it('requires workerTemplate and container names', async () => {
      const missing = await invalid(mutate((m) => delete m.spec.leaderWorkerTemplate.workerTemplate));
      expect(missing.causes).toEqual([
        {
          reason: 'FieldValueRequired',
          field: 'spec.leaderWorkerTemplate.workerTemplate',
          message: 'Required value',
        },
      ]);
      const noName = await invalid(
        mutate(
          (m) => (m.spec.leaderWorkerTemplate.workerTemplate = { spec: { containers: [{ image: 'x' }] } }),
        ),
      );
      expect(noName.causes).toContainEqual({
        reason: 'FieldValueRequired',
        field: 'spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].name',
        message: 'Required value',
      });
      const noImage = await invalid(
        mutate(
          (m) => (m.spec.leaderWorkerTemplate.workerTemplate = { spec: { containers: [{ name: 'x' }] } }),
        ),
      );
      expect(noImage.causes).toContainEqual({
        reason: 'FieldValueRequired',
        field: 'spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].image',
        message: 'Required value',
      });
    });

    it('rejects wrong types', async () => {
      const { causes } = await invalid(mutate((m) => (m.spec.replicas = 'three')));
      expect(causes).toEqual([
        {
          reason: 'FieldValueTypeInvalid',
          field: 'spec.replicas',
          message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        },
      ]);
    });

    it('rejects maxUnavailable and maxSurge both 0, and a bad subdomainPolicy', async () => {
      const both = await invalid(
        mutate(
          (m) =>
            (m.spec.rolloutStrategy = {
              type: 'RollingUpdate',
              rollingUpdateConfiguration: { maxUnavailable: 0, maxSurge: 0 },
            }),
        ),
      );
      expect(both.causes).toEqual([
        {
          reason: 'FieldValueInvalid',
          field: 'spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable',
          message: 'Invalid value: 0: must not be 0 when `maxSurge` is 0',
        },
      ]);
      const sub = await invalid(mutate((m) => (m.spec.networkConfig = { subdomainPolicy: 'Sometimes' })));
      expect(sub.causes[0]).toMatchObject({
        reason: 'FieldValueNotSupported',
        field: 'spec.networkConfig.subdomainPolicy',
      });
    });

    it('prunes unknown fields, and rejects them with fieldValidation=Strict', async () => {
      const body = mutate((m) => {
        m.spec.bogus = 1;
      });
      const res = await fetch(
        `${c.sim.url}/apis/leaderworkerset.x-k8s.io/v1/namespaces/default/leaderworkersets?fieldValidation=Strict`,
        {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'Content-Type': 'application/json' },
        },
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as Body).message).toBe('strict decoding error: unknown field "spec.bogus"');
      const created = (await c.custom.createNamespacedCustomObject({
        ...LWS,
        namespace: 'default',
        body,
      })) as { spec: Body };
      expect(created.spec.bogus).toBeUndefined();
      await c.custom.deleteNamespacedCustomObject({ ...LWS, namespace: 'default', name: 'v' });
    });

    it('requires resourceVersion on update and bumps generation on spec changes only', async () => {
      const created = (await c.custom.createNamespacedCustomObject({
        ...LWS,
        namespace: 'default',
        body: mutate(() => undefined),
      })) as {
        metadata: { resourceVersion: string; generation: number };
        spec: Body;
      };
      const noRv = await expectApiError(
        c.custom.replaceNamespacedCustomObject({
          ...LWS,
          namespace: 'default',
          name: 'v',
          body: { ...mutate(() => undefined) },
        }),
      );
      expect(noRv.code).toBe(422);
      type Obj = {
        metadata: { resourceVersion: string; generation: number; labels?: Record<string, string> };
        spec: { replicas: number };
      };
      // The controller writes status concurrently: read-modify-write with retry on 409, as clients do.
      const update = async (fn: (o: Obj) => Obj): Promise<Obj> => {
        for (;;) {
          const latest = (await c.custom.getNamespacedCustomObject({
            ...LWS,
            namespace: 'default',
            name: 'v',
          })) as Obj;
          try {
            return (await c.custom.replaceNamespacedCustomObject({
              ...LWS,
              namespace: 'default',
              name: 'v',
              body: fn(latest),
            })) as Obj;
          } catch (e) {
            if ((e as { code?: number }).code !== 409) throw e;
          }
        }
      };
      const relabelled = await update((o) => ({ ...o, metadata: { ...o.metadata, labels: { a: 'b' } } }));
      expect(relabelled.metadata.labels).toEqual({ a: 'b' });
      expect(relabelled.metadata.generation).toBe(created.metadata.generation);
      const scaled = await update((o) => ({ ...o, spec: { ...o.spec, replicas: 2 } }));
      expect(scaled.metadata.generation).toBe(created.metadata.generation + 1);
      await c.custom.deleteNamespacedCustomObject({ ...LWS, namespace: 'default', name: 'v' });
    });
  });
}
