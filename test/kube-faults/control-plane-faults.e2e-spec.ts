import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayStack, until, type GatewayStack } from '../gateway/support';
import { onRealCluster } from '../support/cluster';

/**
 * Faults of the real control plane under a running platform (API, gateway, worker with its watches and
 * the autoscaler): the LWS controller killed in the middle of a rollout, kube-apiserver and etcd
 * killed and restarted, the LWS webhooks down while a service is created. Traffic to ready groups
 * keeps flowing (the gateway routes from its watch cache and talks to pod IPs, not to the API
 * server), the platform's watches resume, status and replicas converge, nothing is lost.
 *
 * Real control plane only (`npm run test:kube`): the simulator is one process with no components to
 * kill; its API-server-away case is in test/services (the cluster unreachable, then up on the address).
 */
describe.skipIf(!onRealCluster)('faults of the real control plane under a running platform', () => {
  let s: GatewayStack;
  const svc = 'chat';

  /** Chat requests back to back until stopped; every failure is kept with its message. */
  const load = () => {
    let running = true;
    const failures: string[] = [];
    let ok = 0;
    const client = s.openai(s.inference);
    const loop = async () => {
      while (running) {
        try {
          const r = await client.chat.completions.create({
            model: svc,
            messages: [{ role: 'user', content: 'hello' }],
            max_tokens: 4,
          });
          if (r.choices[0]?.message.content) ok++;
          else failures.push('empty answer');
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const loops = [loop(), loop()];
    return {
      get ok() {
        return ok;
      },
      failures,
      async stop() {
        running = false;
        await Promise.all(loops);
        return { ok, failures };
      },
    };
  };

  const service = async () => (await s.t.call('GET', `/api/v1/services/${svc}`, { key: s.member })).body;

  beforeAll(async () => {
    s = await startGatewayStack({ AUTOSCALER_TICK_MS: '500' }, { nodes: 4, ownControlPlane: true });
    await s.deploy(svc, { initial: 2, min: 1, max: 3 });
    // The autoscaler runs on this service (a target far above the offered load keeps it at 2).
    const policy = await s.t.call('PUT', `/api/v1/services/${svc}/autoscaling`, {
      key: s.member,
      body: { minReplicas: 2, maxReplicas: 3, metric: 'concurrency', target: 1000 },
    });
    expect(policy.status).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await s?.stop();
  });

  const cp = () => {
    const c = s.cluster.controlPlane;
    if (!c) throw new Error('no control plane of its own');
    return c;
  };

  it('kube-apiserver killed and restarted: requests keep flowing, the watch resumes, a scale converges', async () => {
    const traffic = load();
    await until('some answers', () => traffic.ok > 5);
    await cp().component('kube-apiserver').kill('SIGKILL');
    const during = traffic.ok;
    await until('answers while the API server is down', () => traffic.ok > during + 10, 20_000);
    await cp().component('kube-apiserver').start();
    // An admin scale goes through the restarted API server and is seen back through the resumed watch.
    const scaled = await s.t.call('POST', `/api/v1/services/${svc}/scale`, {
      key: s.member,
      body: { replicas: 3 },
    });
    expect(scaled.status).toBe(202);
    await until('3 groups routed', () => s.endpointsOf(s.t, svc) === 3, 60_000);
    const done = await traffic.stop();
    expect(done.failures).toEqual([]);
    expect(done.ok).toBeGreaterThan(20);
    await until(
      'status 3 of 3',
      async () => {
        const g = (await service()).status.observed?.groups;
        return g?.desired === 3 && g.ready === 3;
      },
      30_000,
    );
  });

  it('etcd killed and restarted: requests keep flowing, status converges after a scale-down', async () => {
    const traffic = load();
    await until('some answers', () => traffic.ok > 5);
    await cp().component('etcd').kill('SIGKILL');
    const during = traffic.ok;
    await until('answers while etcd is down', () => traffic.ok > during + 10, 20_000);
    await cp().component('etcd').start();
    const scaled = await until(
      'scale accepted once etcd is back',
      async () => {
        const r = await s.t.call('POST', `/api/v1/services/${svc}/scale`, {
          key: s.member,
          body: { replicas: 2 },
        });
        return r.status === 202 && r;
      },
      60_000,
      500,
    );
    expect(scaled.status).toBe(202);
    await until('2 groups routed', () => s.endpointsOf(s.t, svc) === 2, 60_000);
    const done = await traffic.stop();
    expect(done.failures).toEqual([]);
    await until(
      'status 2 of 2',
      async () => {
        const g = (await service()).status.observed?.groups;
        return g?.desired === 2 && g.ready === 2;
      },
      30_000,
    );
  });

  it('the LWS controller killed mid-rollout: the rollout completes once it is back, ready groups keep serving', async () => {
    const traffic = load();
    await until('some answers', () => traffic.ok > 5);
    const before = await service();
    const patched = await s.t.call('PATCH', `/api/v1/services/${svc}`, {
      key: s.member,
      body: { engine: { ...before.spec.engine, image: 'vllm/vllm-openai:v0.11.1' } },
    });
    expect(patched.status).toBe(202);
    await until('rollout started', async () => (await service()).status.phase === 'UPDATING', 30_000);
    await cp().component('lws-controller').kill('SIGKILL');
    const during = traffic.ok;
    await until('answers while the LWS controller is down', () => traffic.ok > during + 10, 20_000);
    await cp().component('lws-controller').start();
    const done = await until(
      'READY on the new image',
      async () => {
        const x = await service();
        return (
          x.status.phase === 'READY' &&
          x.status.observed?.groups.updated === 2 &&
          x.status.observed.groups.ready === 2 &&
          x
        );
      },
      120_000,
      250,
    );
    expect(done.spec.engine.image).toBe('vllm/vllm-openai:v0.11.1');
    const result = await traffic.stop();
    expect(result.failures).toEqual([]);
  });

  it('with the LWS webhooks down, creating a service reports the API server error (no 500), then deploys', async () => {
    await cp().component('lws-controller').kill('SIGKILL');
    const created = await s.t.call('POST', '/api/v1/services', {
      key: s.member,
      body: {
        name: 'late',
        model: s.model,
        version: 'v1',
        parallelism: { tensor: 8, pipeline: 1 },
        gpusPerNode: 8,
        replicas: { initial: 1, min: 1, max: 1 },
        engine: { image: 'vllm/vllm-openai:v0.11.0', maxModelLen: 4096 },
      },
    });
    expect(created.status).toBe(202);
    const failing = await until(
      'lastError',
      async () => {
        const r = await s.t.call('GET', '/api/v1/services/late', { key: s.member });
        expect(r.status).toBe(200);
        return r.body.status.lastError && r.body;
      },
      30_000,
      200,
    );
    expect(failing.status.lastError).toMatch(/webhook/i);
    expect(failing.status.lastError).toMatch(/lws-webhook-service|connection refused/i);
    expect(failing.status.phase).not.toBe('FAILED');
    await cp().component('lws-controller').start();
    await until(
      'READY once the webhooks answer',
      async () => {
        const x = (await s.t.call('GET', '/api/v1/services/late', { key: s.member })).body;
        return x.status.phase === 'READY' && x;
      },
      90_000,
      250,
    );
  });
});
