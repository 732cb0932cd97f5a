// LeaderWorkerSet validation and defaulting against the upstream CRD schema (../shared/reference, when
// present) and against the built-in condensed schema: 422 Invalid with field causes from the API
// server's checks, 403 Forbidden from the LWS validating webhook (as upstream answers).

import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectApiError,
  LWS,
  lwsManifest,
  startSim,
  UPSTREAM_CRD,
  waitFor,
  type SimClients,
} from './helpers';

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

    const denied = async (body: Body): Promise<string> => {
      const err = await expectApiError(
        c.custom.createNamespacedCustomObject({ ...LWS, namespace: 'default', body }),
      );
      expect(err.code).toBe(403);
      expect(err.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403 });
      return String(err.body.message);
    };

    it('rejects size 0', async () => {
      const body = mutate((m) => (m.spec.leaderWorkerTemplate.size = 0));
      if (v.crdPath === false) {
        // The condensed schema has minimum 1: the API server's own validation answers 422.
        const { causes } = await invalid(body);
        expect(causes).toEqual([
          {
            reason: 'FieldValueInvalid',
            field: 'spec.leaderWorkerTemplate.size',
            message:
              'Invalid value: 0: spec.leaderWorkerTemplate.size in body should be greater than or equal to 1',
          },
        ]);
        return;
      }
      // The upstream CRD has no minimum for size: its validating webhook denies it (403).
      expect(await denied(body)).toBe(
        'admission webhook "vleaderworkerset.kb.io" denied the request: spec.leaderWorkerTemplate.size: Invalid value: 0: size must be equal or greater than 1',
      );
    });

    it('rejects negative replicas with the /scale subresource check, before the webhook', async () => {
      const { causes, message } = await invalid(mutate((m) => (m.spec.replicas = -1)));
      const scaleCheck = {
        reason: 'FieldValueInvalid',
        field: '.spec.replicas',
        message: 'Invalid value: -1: should be a non-negative integer',
      };
      if (v.crdPath === false) {
        // The condensed schema also has minimum 0: both checks answer, together.
        expect(causes).toContainEqual(scaleCheck);
        return;
      }
      expect(causes).toEqual([scaleCheck]);
      expect(message).toBe(
        'LeaderWorkerSet.leaderworkerset.x-k8s.io "v" is invalid: .spec.replicas: Invalid value: -1: should be a non-negative integer',
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
      // The simulator's answers. Upstream the mutating webhook's Go round trip comes first: a missing
      // workerTemplate becomes `containers: null` (422 "must be of type array") and a missing name
      // becomes "" (admitted). See "Conformance with upstream Kubernetes" in docs/cluster-sim.md.
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
      // Upstream's webhook does not check the pod templates: an LWS without an image is admitted and
      // the StatefulSet API refuses the leader StatefulSet instead.
      await c.custom.createNamespacedCustomObject({
        ...LWS,
        namespace: 'default',
        body: mutate(
          (m) => (m.spec.leaderWorkerTemplate.workerTemplate = { spec: { containers: [{ name: 'x' }] } }),
        ),
      });
      await waitFor(async () =>
        (
          await c.core.listNamespacedEvent({
            namespace: 'default',
            fieldSelector: 'involvedObject.name=v,reason=FailedCreate',
          })
        ).items.some((e) => e.type === 'Warning' && e.message === 'Failed to create leader statefulset v'),
      );
      await c.custom.deleteNamespacedCustomObject({ ...LWS, namespace: 'default', name: 'v' });
    });

    it('rejects wrong types', async () => {
      // The simulator's answer; upstream the mutating webhook fails to decode first (400, see docs).
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
      const both = await denied(
        mutate(
          (m) =>
            (m.spec.rolloutStrategy = {
              type: 'RollingUpdate',
              rollingUpdateConfiguration: { maxUnavailable: 0, maxSurge: 0 },
            }),
        ),
      );
      expect(both).toBe(
        'admission webhook "vleaderworkerset.kb.io" denied the request: spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: must not be 0 when `maxSurge` is 0',
      );
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
      expect(((await res.json()) as Body).message).toBe(
        'LeaderWorkerSet in version "v1" cannot be handled as a LeaderWorkerSet: strict decoding error: unknown field "spec.bogus"',
      );
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
