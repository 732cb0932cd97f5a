import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { RoutingTable, ServiceTable } from '@troupe/gateway';
import { buildCheckpoint } from '../../libs/core/src/models/verification';
import { startTestApp, TestApp } from '../support/app';
import { uploadAndVerify } from '../support/checkpoint';
import { startTestCluster, TestCluster, type TestClusterOptions } from '../support/cluster';
import { startTestS3, TestS3 } from '../support/s3';
import { pollUntil } from '../support/until';

export const NS = 'troupe-gw';

export const until = <T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  everyMs = 20,
) => pollUntil(what, fn, timeoutMs, everyMs);

export interface EngineInfo {
  namespace: string;
  pod: string;
  url: string;
  models: string[];
  ready: boolean;
  stats: { running: number; waiting: number; finished: number; aborted: number; failed?: number };
}

/** A platform (API + gateway + worker), a simulated cluster and a project with a READY model version. */
export interface GatewayStack {
  s3: TestS3;
  cluster: TestCluster;
  t: TestApp;
  projectId: string;
  projectName: string;
  member: string;
  inference: string;
  inferenceKeyId: string;
  model: string;
  openai(key: string, app?: TestApp): OpenAI;
  /** Creates a service (TP 8 on one 8-GPU node: one pod per group) and waits for `ready` groups. */
  deploy(
    name: string,
    replicas: { initial: number; min?: number; max?: number },
    ready?: number,
  ): Promise<string>;
  engines(serviceName?: string): Promise<EngineInfo[]>;
  faults(pod: string, faults: Record<string, unknown> | null): Promise<void>;
  endpointsOf(app: TestApp, serviceName: string): number;
  /** Environment of another gateway-only process in front of the same cluster, database and Redis. */
  gatewayEnv(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export async function startGatewayStack(
  env: Record<string, string> = {},
  clusterOptions: TestClusterOptions = {},
): Promise<GatewayStack> {
  const s3 = await startTestS3();
  const cluster = await startTestCluster({
    nodes: 4,
    podStartMs: 50,
    podReadyMs: 100,
    probePeriodMs: 50,
    ...clusterOptions,
  });
  const t = await startTestApp({ ...s3.env, KUBECONFIG: cluster.kubeconfigFile, KUBE_NAMESPACE: NS, ...env });
  const projectName = `gw-${randomBytes(3).toString('hex')}`;
  const project = (await t.call('POST', '/api/v1/projects', { key: t.adminKey, body: { name: projectName } }))
    .body;
  const key = async (role: string) =>
    (
      await t.call('POST', '/api/v1/api-keys', {
        key: t.adminKey,
        body: { name: role, role, projectId: project.id },
      })
    ).body;
  const member = (await key('member')).key;
  const inf = await key('inference');
  const model = 'tiny';
  await t.call('POST', '/api/v1/models', { key: member, body: { name: model } });
  const files = buildCheckpoint({ layers: 2, hidden: 64, heads: 16, kvHeads: 8, shards: 1 });
  const v = await uploadAndVerify(t, member, model, 'v1', files);
  if (v.state !== 'READY') throw new Error(`model version ${v.state}`);

  const engines = async (serviceName?: string): Promise<EngineInfo[]> => {
    const list = (await (await cluster.sim('GET', '/sim/engines')).json()) as { items: EngineInfo[] };
    return list.items
      .filter((e) => e.namespace === NS && (!serviceName || e.pod.startsWith(`${serviceName}-`)))
      .sort((a, b) => a.pod.localeCompare(b.pod));
  };
  const endpointsOf = (app: TestApp, serviceName: string): number => {
    const svc = app.app
      .get(ServiceTable)
      .services.find((s) => s.name === serviceName && s.projectId === project.id);
    return svc ? (app.app.get(RoutingTable).route(svc.id)?.endpoints.length ?? 0) : 0;
  };

  return {
    s3,
    cluster,
    t,
    projectId: project.id,
    projectName,
    member,
    inference: inf.key,
    inferenceKeyId: inf.id,
    model,
    gatewayEnv: (extra = {}) => ({
      ...s3.env,
      KUBECONFIG: cluster.kubeconfigFile,
      KUBE_NAMESPACE: NS,
      ROLES: 'gateway',
      DATABASE_URL: t.config.database.url,
      TROUPE_ADMIN_KEY: t.adminKey,
      QUEUE_PREFIX: t.config.queue.prefix,
      ...extra,
    }),
    openai: (k, app = t) => new OpenAI({ apiKey: k, baseURL: `${app.url}/v1`, maxRetries: 0 }),
    async deploy(name, replicas, ready = replicas.initial) {
      const r = await t.call('POST', '/api/v1/services', {
        key: member,
        body: {
          name,
          model,
          version: 'v1',
          servedModelName: name,
          parallelism: { tensor: 8, pipeline: 1 },
          gpusPerNode: 8,
          replicas: {
            min: replicas.min ?? replicas.initial,
            max: replicas.max ?? Math.max(1, replicas.initial),
            initial: replicas.initial,
          },
          engine: { image: 'vllm/vllm-openai:v0.11.0', maxModelLen: 4096 },
        },
      });
      if (r.status !== 202) throw new Error(`create service: ${r.status} ${r.text}`);
      await until(
        `${name}: ${ready} ready group(s) routed`,
        () => endpointsOf(t, name) === ready,
        30_000,
      ).catch(async (err: Error) => {
        // Say where it stuck: the service's observed state and the engines the simulator runs.
        const status = (await t.call('GET', `/api/v1/services/${name}`, { key: member })).body?.status;
        const pods = (await engines(name)).map((e) => `${e.pod} ready=${e.ready}`);
        throw new Error(`${err.message}; status ${JSON.stringify(status)}; engines ${pods.join(', ')}`);
      });
      return r.body.id as string;
    },
    engines,
    async faults(pod, faults) {
      const r = await cluster.sim(
        faults ? 'POST' : 'DELETE',
        `/sim/engines/${NS}/${pod}/faults`,
        faults ?? undefined,
      );
      if (r.status !== 200) throw new Error(`faults on ${pod}: ${r.status}`);
    },
    endpointsOf,
    async stop() {
      await t.close();
      await cluster.stop();
      await s3.stop();
    },
  };
}
