import Redis from 'ioredis';
import OpenAI, { APIError } from 'openai';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeWatchCache } from '@troupe/kube';
import { GatewaySignals } from '@troupe/gateway';
import { startTestApp, TestApp } from '../support/app';
import { GatewayStack, NS, startGatewayStack, until } from './support';

/**
 * Two gateway processes (the full platform, and a second app with ROLES=gateway: its own Nest
 * container, key cache, service table, routing table and Redis connections) in front of the same
 * cluster: scale-from-zero hold with the autoscaler signals, limits shared through Redis, revocation.
 */
describe('gateway processes, hold from zero, limits and revocation', () => {
  let s: GatewayStack;
  let second: TestApp;
  let redis: Redis;
  const messages = [{ role: 'user' as const, content: 'hello' }];

  beforeAll(async () => {
    s = await startGatewayStack({ GATEWAY_HOLD_KEEPALIVE_MS: '200' });
    second = await startTestApp(s.gatewayEnv({ GATEWAY_HOLD_TIMEOUT_MS: '400' }));
    redis = new Redis(inject('redisUrl'));
    await s.deploy('warm', { initial: 1 });
    await until('the second gateway routes to warm', () => s.endpointsOf(second, 'warm') === 1);
  });
  afterAll(async () => {
    redis?.disconnect();
    await second?.close();
    await s?.stop();
  });

  it('both processes serve the same model', async () => {
    for (const app of [s.t, second]) {
      const r = await s
        .openai(s.inference, app)
        .chat.completions.create({ model: 'warm', messages, max_tokens: 2 });
      expect(r.choices[0].message.role).toBe('assistant');
    }
  });

  it('a revoked key is refused by another process within a second', async () => {
    const created = (
      await s.t.call('POST', '/api/v1/api-keys', {
        key: s.t.adminKey,
        body: { name: 'short-lived', role: 'inference', projectId: s.projectId },
      })
    ).body;
    const viaSecond = s.openai(created.key, second);
    await viaSecond.chat.completions.create({ model: 'warm', messages, max_tokens: 1 }); // cached there now
    expect((await s.t.call('DELETE', `/api/v1/api-keys/${created.id}`, { key: s.t.adminKey })).status).toBe(
      204,
    );
    const revokedAt = Date.now();
    const status = await until(
      '401 from the other process',
      async () => {
        const err = await viaSecond.chat.completions.create({ model: 'warm', messages, max_tokens: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        return err instanceof APIError && err.status === 401 ? err.status : undefined;
      },
      1_000,
      10,
    );
    console.log(`[gateway e2e] revoked key refused by the other process after ${Date.now() - revokedAt} ms`);
    expect(status).toBe(401);
  });

  describe('a service scaled to zero', () => {
    let serviceId: string;

    beforeAll(async () => {
      serviceId = await s.deploy('cold', { initial: 0, min: 0, max: 1 }, 0);
      const caches = [s.t, second].map((a) => a.app.get(KubeWatchCache));
      await until('the LWS at 0 replicas in both caches', () =>
        caches.every((c) => c.getLws(NS, 'cold')?.spec.replicas === 0),
      );
    });

    it('answers 503 + Retry-After when no group becomes ready within the hold time', async () => {
      const client = s.openai(s.inference, second);
      const err = await client.chat.completions.create({ model: 'cold', messages }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).status).toBe(503);
      expect((err as APIError).code).toBe('model_starting');
      expect((err as APIError).headers?.get('retry-after')).toBe('5');
    });

    it('holds the request, reports it and wakes the autoscaler, then serves it once a group is ready', async () => {
      const sub = redis.duplicate();
      const wakes: { serviceId: string; at: number }[] = [];
      await sub.subscribe('troupe:autoscaler:wake');
      sub.on('message', (_ch, msg) => wakes.push(JSON.parse(msg)));
      try {
        const res = await fetch(`${s.t.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${s.inference}` },
          body: JSON.stringify({ model: 'cold', messages, max_tokens: 3, ignore_eos: true, stream: true }),
        });
        // The keep-alive interval passed: the stream started with SSE comments while held.
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        const first = new TextDecoder().decode((await reader.read()).value);
        expect(first).toBe(': keep-alive\n\n');

        const processId = s.t.app.get(GatewaySignals).processId;
        const load = await until('held request in the load hash', async () => {
          const v = await redis.hget(`troupe:gateway:load:${processId}`, serviceId);
          return v ? (JSON.parse(v) as { inflight: number; held: number }) : undefined;
        });
        expect(load).toEqual({ inflight: 0, held: 1 });
        expect(await redis.pttl(`troupe:gateway:load:${processId}`)).toBeGreaterThan(0);
        expect(await redis.zscore('troupe:gateway:processes', processId)).not.toBeNull();
        await until('a wake-up for the service', () => wakes.some((w) => w.serviceId === serviceId));

        // What the autoscaler would do: one group.
        const patched = await s.t.call('PATCH', '/api/v1/services/cold', {
          key: s.member,
          body: { replicas: { initial: 1, min: 0, max: 1 } },
        });
        expect(patched.status).toBeLessThan(300);

        let text = first;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        const data = text.split('\n\n').filter((e) => e.startsWith('data: '));
        expect(data[data.length - 1]).toBe('data: [DONE]');
        expect(data.length).toBeGreaterThanOrEqual(4);
        expect(text).not.toContain('"usage"');
      } finally {
        await sub.quit();
      }
    });
  });

  it('exposes Prometheus metrics of the proxied requests', async () => {
    const text = await (await fetch(`${s.t.url}/metrics`)).text();
    const service = `${s.projectName}/warm`;
    expect(text).toMatch(
      new RegExp(
        `troupe_gateway_requests_total\\{service="${service}",endpoint="chat/completions",status="200"\\} \\d+`,
      ),
    );
    expect(text).toMatch(
      new RegExp(`troupe_gateway_tokens_total\\{service="${service}",kind="completion"\\} \\d+`),
    );
    expect(text).toContain('troupe_gateway_time_to_first_token_seconds_bucket');
    expect(text).toContain('troupe_gateway_overhead_seconds_bucket');
  });

  it('records usage from the engines’ token counts', async () => {
    const client = s.openai(s.inference);
    await client.chat.completions.create({
      model: 'warm',
      messages,
      max_tokens: 4,
      ignore_eos: true,
    } as never);
    const usage = await until('usage written', async () => {
      const r = await s.t.call('GET', '/api/v1/usage?groupBy=service', { key: s.member });
      const row = (r.body?.data ?? []).find((d: { serviceName: string }) => d.serviceName === 'warm');
      return row && row.completionTokens > 0 ? row : undefined;
    });
    expect(usage.promptTokens).toBeGreaterThan(0);
  });

  it('rate limits are shared by the two processes (429 with Retry-After)', async () => {
    const patched = await s.t.call('PATCH', `/api/v1/projects/${s.projectId}`, {
      key: s.t.adminKey,
      body: { limits: { requestsPerMinute: 4 } },
    });
    expect(patched.status).toBe(200);
    const key = (
      await s.t.call('POST', '/api/v1/api-keys', {
        key: s.t.adminKey,
        body: { name: 'limited', role: 'inference', projectId: s.projectId },
      })
    ).body.key;
    const clients: OpenAI[] = [s.openai(key), s.openai(key, second)];
    try {
      await until('both processes know the limit', async () => {
        const r = await fetch(`${second.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: 'warm', messages, max_tokens: 1 }),
        });
        return r.status === 429;
      });
      // The key has used its 4 requests across both processes: both refuse now.
      for (const c of clients) {
        const err = await c.chat.completions
          .create({ model: 'warm', messages, max_tokens: 1 })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(APIError);
        expect((err as APIError).status).toBe(429);
        expect(Number((err as APIError).headers?.get('retry-after'))).toBeGreaterThan(0);
      }
    } finally {
      await s.t.call('PATCH', `/api/v1/projects/${s.projectId}`, {
        key: s.t.adminKey,
        body: { limits: { requestsPerMinute: null } },
      });
    }
  });
});
