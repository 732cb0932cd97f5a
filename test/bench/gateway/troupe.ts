/**
 * The Troupe side of the gateway benchmark: PostgreSQL and Redis (found or started), s3rver, a control
 * server process (roles api + worker) that deploys one inference service into the cluster simulator,
 * and a separate gateway process (role gateway, built output) whose CPU the benchmark reads. This is how
 * the roles run in a cluster: the gateway as its own Deployment.
 */
import path from 'node:path';
import { startS3Server } from '../../../libs/testing/src';
import {
  apiClient,
  createBenchDatabase,
  createTinyModel,
  newAdminKey,
  platformEnv,
  startBenchStack,
  startServer,
  tinyService,
  waitReady,
  waitUntil,
} from '../support/platform';

const NS = 'bench-gw';

export interface TroupeDeployment {
  /** Base URL of the gateway process. */
  gatewayUrl: string;
  gatewayPid: number;
  /** Inference key of the service's project. */
  key: string;
  /** `model` to send to the gateway (the service's name). */
  model: string;
  /** What the leader pod's engine serves (`--served-model-name`). */
  servedModelName: string;
  /** The leader pod's engine, host:port. */
  leader: { namespace: string; pod: string; address: string };
  stop(): Promise<void>;
}

type Log = (m: string) => void;

export async function deployTroupe(o: {
  tmp: string;
  kubeconfigPath: string;
  /** Cluster simulator base URL (for its /sim admin API). */
  simUrl: string;
  log: Log;
  /** Extra node flags for the gateway process (e.g. --cpu-prof). */
  gatewayNodeArgs?: string[];
}): Promise<TroupeDeployment> {
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    // Idempotent: each stopper runs once.
    for (let s = stoppers.pop(); s; s = stoppers.pop()) await s().catch((e) => console.error(e));
  };
  try {
    const s3 = await startS3Server({ directory: path.join(o.tmp, 's3'), bucket: 'bench' });
    stoppers.push(() => s3.stop());
    const stack = await startBenchStack();
    stoppers.push(() => stack.stop());
    const db = await createBenchDatabase(stack, 'troupe_bench_gw');
    stoppers.push(() => db.drop());

    const adminKey = newAdminKey();
    const common = {
      ...platformEnv({ databaseUrl: db.url, redisUrl: stack.redisUrl, s3, adminKey }),
      KUBECONFIG: o.kubeconfigPath,
      KUBE_NAMESPACE: NS,
      QUEUE_PREFIX: `bench-gw-${process.pid}`,
    };
    const control = await startServer({ name: 'control server', env: { ...common, ROLES: 'api,worker' } });
    stoppers.push(() => control.stop());
    const api = apiClient(control.url, adminKey);
    const { call } = api;
    await waitReady(control, 60_000);

    const project = await call('POST', '/api/v1/projects', { name: 'bench-gateway' });
    const q = `?projectId=${project.id}`;
    await createTinyModel(api, project.id);
    const name = 'bench';
    await call('POST', '/api/v1/services', tinyService(name, project.id));
    let service: {
      servedModelName: string;
      namespace: string;
      status: {
        phase: string;
        observed: { leaderEndpoints: { pod: string; ip: string; port: number }[] } | null;
      };
    } | null = null;
    await waitUntil('the service READY', 120_000, async () => {
      service = await call('GET', `/api/v1/services/${name}${q}`);
      return service!.status.phase === 'READY' && (service!.status.observed?.leaderEndpoints.length ?? 0) > 0;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(service?.status)}`);
    });
    const svc = service!;
    const ep = svc.status.observed!.leaderEndpoints[0];
    o.log(`service ${name} READY, leader ${ep.pod} at ${ep.ip}:${ep.port}`);
    // Zero delays on the leader's engine: the simulator's flags zero the token delays; this zeroes the
    // prefill cost too (every delay is multiplied by slowFactor, which must be > 0).
    const fault = await fetch(`${o.simUrl}/sim/engines/${svc.namespace}/${ep.pod}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ slowFactor: 1e-9 }),
    });
    if (!fault.ok) throw new Error(`sim faults: ${fault.status} ${await fault.text()}`);

    const key = (
      await call('POST', '/api/v1/api-keys', { name: 'bench', role: 'inference', projectId: project.id })
    ).key as string;

    const gateway = await startServer({
      name: 'gateway',
      env: { ...common, ROLES: 'gateway' },
      nodeArgs: o.gatewayNodeArgs,
    });
    stoppers.push(() => gateway.stop());
    const gatewayUrl = gateway.url;
    let last = '';
    await waitUntil('the gateway to route to the service', 60_000, async () => {
      const r = await fetch(`${gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: name, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
      }).catch((e: Error) => e);
      if (r instanceof Error) {
        last = r.message;
        return false;
      }
      last = `${r.status} ${await r.text()}`;
      if (r.status === 404 && /Route POST:\/v1\/chat\/completions not found|Cannot POST/i.test(last))
        throw new Error(
          `the gateway process does not serve POST /v1/chat/completions (${last}); ` +
            'BENCH_SKIP_GATEWAY=1 measures the other paths',
        );
      return r.status === 200;
    }).catch((err: Error) => {
      throw err.message.startsWith('timed out') ? new Error(`${err.message}; last answer: ${last}`) : err;
    });
    return {
      gatewayUrl,
      gatewayPid: gateway.child.pid!,
      key,
      model: name,
      servedModelName: svc.servedModelName,
      leader: { namespace: svc.namespace, pod: ep.pod, address: `${ep.ip}:${ep.port}` },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
