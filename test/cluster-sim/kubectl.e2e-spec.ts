// The acceptance scenario: the upstream LWS sample applied with real kubectl (when installed),
// and the same through @kubernetes/client-node.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import {
  kubectl,
  kubectlAvailable,
  LWS,
  sampleLws,
  SAMPLE_FILE,
  startSim,
  waitFor,
  type SimClients,
} from './helpers';

const NAME = 'leaderworkerset-sample';
const SELECTOR = `leaderworkerset.sigs.k8s.io/name=${NAME}`;
const expectedNames = (groups: number): string[] =>
  Array.from({ length: groups }, (_, g) => [
    `${NAME}-${g}`,
    `${NAME}-${g}-1`,
    `${NAME}-${g}-2`,
    `${NAME}-${g}-3`,
  ]).flat();

describe.skipIf(!kubectlAvailable())('kubectl against the simulator', () => {
  let c: SimClients;
  beforeAll(async () => {
    c = await startSim();
  });
  afterAll(() => c.close());

  it('applies, lists, scales and deletes the LWS sample', async () => {
    const applied = await kubectl(c.kubeconfigPath, ['apply', '-f', SAMPLE_FILE]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain(`leaderworkerset.leaderworkerset.x-k8s.io/${NAME} created`);

    const rows = await waitFor(
      async () => {
        const out = await kubectl(c.kubeconfigPath, ['get', 'pods', `--selector=${SELECTOR}`]);
        const lines = out.stdout.trim().split('\n');
        return lines.length === 13 && lines.slice(1).every((l) => /\s1\/1\s+Running\s/.test(l))
          ? lines
          : undefined;
      },
      15_000,
      '12 running pods',
    );
    expect(rows[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(rows.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(expectedNames(3));

    const lws = await kubectl(c.kubeconfigPath, ['get', 'lws']);
    expect(lws.stdout).toMatch(/^NAME\s+READY\s+DESIRED\s+UP-TO-DATE\s+AGE\n/);
    expect(lws.stdout).toMatch(new RegExp(`${NAME}\\s+3\\s+3\\s+3\\s+`));

    const scaled = await kubectl(c.kubeconfigPath, ['scale', `lws/${NAME}`, '--replicas=4']);
    expect(scaled.stdout).toContain('scaled');
    await waitFor(
      async () => {
        const out = await kubectl(c.kubeconfigPath, [
          'get',
          'pods',
          `--selector=${SELECTOR}`,
          '--no-headers',
        ]);
        const lines = out.stdout.trim().split('\n');
        return lines.length === 16 && lines.every((l) => /\s1\/1\s+Running\s/.test(l));
      },
      15_000,
      '16 running pods',
    );

    const deleted = await kubectl(c.kubeconfigPath, ['delete', 'lws', NAME]);
    expect(deleted.stdout).toContain(`"${NAME}" deleted`);
    const after = await kubectl(c.kubeconfigPath, ['get', 'pods', `--selector=${SELECTOR}`]);
    expect(after.stdout).toBe('');
    expect(after.stderr).toContain('No resources found in default namespace.');
    const sts = await kubectl(c.kubeconfigPath, ['get', 'statefulsets', '-o', 'name']);
    expect(sts.stdout).toBe('');
  });

  it('creates namespaces, configmaps and secrets (protobuf bodies) and applies built-ins twice', async () => {
    expect((await kubectl(c.kubeconfigPath, ['create', 'namespace', 'team-x'])).stdout).toContain(
      'namespace/team-x created',
    );
    const secret = await kubectl(c.kubeconfigPath, [
      'create',
      'secret',
      'generic',
      'hf',
      '--from-literal=token=abc',
      '-n',
      'team-x',
    ]);
    expect(secret.stdout).toContain('secret/hf created');
    const s = await c.core.readNamespacedSecret({ namespace: 'team-x', name: 'hf' });
    expect(s.type).toBe('Opaque');
    expect(Buffer.from(s.data?.token ?? '', 'base64').toString()).toBe('abc');
    const svc = (port: number): string =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: team-x}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80}, {name: m, port: ${port}}]\n`;
    expect((await kubectl(c.kubeconfigPath, ['apply', '-f', '-'], svc(9090))).stdout).toContain(
      'service/web created',
    );
    expect((await kubectl(c.kubeconfigPath, ['apply', '-f', '-'], svc(9091))).stdout).toContain(
      'service/web configured',
    );
    const read = await c.core.readNamespacedService({ namespace: 'team-x', name: 'web' });
    expect(read.spec?.ports?.map((p) => p.port)).toEqual([80, 9091]);
    expect((await kubectl(c.kubeconfigPath, ['delete', 'namespace', 'team-x'])).stdout).toContain('deleted');
  });

  it('explains the LWS schema and shows nodes', async () => {
    const explain = await kubectl(c.kubeconfigPath, ['explain', 'lws.spec.startupPolicy']);
    expect(explain.stdout).toContain('LeaderCreated');
    const nodes = await kubectl(c.kubeconfigPath, ['get', 'nodes']);
    expect(nodes.stdout).toMatch(/node-0\s+Ready/);
  });
});

describe('the same scenario through @kubernetes/client-node', () => {
  let c: SimClients;
  beforeAll(async () => {
    c = await startSim();
  });
  afterAll(() => c.close());

  const pods = async (): Promise<V1Pod[]> =>
    (await c.core.listNamespacedPod({ namespace: 'default', labelSelector: SELECTOR })).items;
  const allRunningReady = (list: V1Pod[], n: number): boolean =>
    list.length === n &&
    list.every(
      (p) =>
        p.status?.phase === 'Running' &&
        p.status.containerStatuses?.every((s) => s.ready) &&
        p.status.podIP?.startsWith('127.'),
    );

  it('creates, scales through /scale and deletes with garbage collection', async () => {
    await c.custom.createNamespacedCustomObject({ ...LWS, namespace: 'default', body: sampleLws() });
    const list = await waitFor(
      async () => {
        const l = await pods();
        return allRunningReady(l, 12) ? l : undefined;
      },
      15_000,
      '12 ready pods',
    );
    expect(list.map((p) => p.metadata?.name)).toEqual(expectedNames(3));
    const ips = new Set(list.map((p) => p.status?.podIP));
    expect(ips.size).toBe(12);
    expect([...ips].some((ip) => ip?.startsWith('127.0.0.'))).toBe(false);

    const scale = await c.custom.getNamespacedCustomObjectScale({ ...LWS, namespace: 'default', name: NAME });
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 3 } });
    await c.custom.replaceNamespacedCustomObjectScale({
      ...LWS,
      namespace: 'default',
      name: NAME,
      body: { ...(scale as object), spec: { replicas: 4 } },
    });
    await waitFor(async () => allRunningReady(await pods(), 16), 15_000, '16 ready pods');
    const status = await waitFor(async () => {
      const obj = (await c.custom.getNamespacedCustomObjectScale({
        ...LWS,
        namespace: 'default',
        name: NAME,
      })) as {
        status: { replicas: number; selector: string };
      };
      return obj.status.replicas === 4 ? obj.status : undefined;
    });
    expect(status.selector).toBe(`${SELECTOR},leaderworkerset.sigs.k8s.io/worker-index=0`);

    await c.custom.deleteNamespacedCustomObject({ ...LWS, namespace: 'default', name: NAME });
    expect(await pods()).toEqual([]);
    expect((await c.apps.listNamespacedStatefulSet({ namespace: 'default' })).items).toEqual([]);
    const svcs = (await c.core.listNamespacedService({ namespace: 'default' })).items.map(
      (s) => s.metadata?.name,
    );
    expect(svcs).toEqual(['kubernetes']);
  });
});
