import Redis from 'ioredis';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ProjectLimitsTable } from '../../libs/gateway/src/limits/limits-table';
import { limitKeys } from '../../libs/gateway/src/limits/limit-scripts';
import { GatewayStack, startGatewayStack, until } from '../gateway/support';
import { startTestApp, TestApp } from '../support/app';

/**
 * The limits as an OpenAI client sees them, through /v1/chat/completions of two gateway processes in
 * front of the simulated cluster: stream slots taken and given back by the proxy, tokens charged from
 * the engine's usage, 429 with Retry-After and the OpenAI error object.
 */
describe('limits through the gateway, two processes', () => {
  let s: GatewayStack;
  let second: TestApp;
  let redis: Redis;
  const model = 'limited';
  const messages = [{ role: 'user' as const, content: 'hello there' }];

  async function setLimits(limits: Record<string, number | null>) {
    const r = await s.t.call('PATCH', `/api/v1/projects/${s.projectId}`, {
      key: s.t.adminKey,
      body: { limits },
    });
    expect(r.status).toBe(200);
    for (const app of [s.t, second]) {
      const table = app.app.get(ProjectLimitsTable);
      await until('both gateway processes apply the limits', () =>
        Object.entries(limits).every(
          ([k, v]) => table.limitsFor(s.projectId)[k as 'requestsPerMinute'] === (v ?? 0),
        ),
      );
    }
  }

  async function newKey(name: string): Promise<{ key: string; id: string }> {
    const r = await s.t.call('POST', '/api/v1/api-keys', {
      key: s.t.adminKey,
      body: { name, role: 'inference', projectId: s.projectId },
    });
    expect(r.status).toBe(201);
    return r.body;
  }

  const post = (app: TestApp, key: string, body: Record<string, unknown>) =>
    fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model, messages, ...body }),
    });

  beforeAll(async () => {
    s = await startGatewayStack();
    second = await startTestApp(s.gatewayEnv());
    redis = new Redis(inject('redisUrl'));
    await s.deploy(model, { initial: 1 });
    await until('the second gateway routes to the service', () => s.endpointsOf(second, model) === 1);
  });
  afterAll(async () => {
    redis?.disconnect();
    await second?.close();
    await s?.stop();
  });

  it('a second concurrent stream gets 429 + Retry-After from the other process until the first ends', async () => {
    await setLimits({ requestsPerMinute: null, tokensPerMinute: null, concurrentStreams: 1 });
    const k = await newKey('one-stream');
    const first = new OpenAI({ apiKey: k.key, baseURL: `${s.t.url}/v1`, maxRetries: 0 });
    const ac = new AbortController();
    const stream = await first.chat.completions.create(
      { model, messages, max_tokens: 3000, ignore_eos: true, stream: true } as never,
      { signal: ac.signal },
    );
    const iterator = (stream as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await iterator.next(); // the stream is flowing

    const viaSecond = new OpenAI({ apiKey: k.key, baseURL: `${second.url}/v1`, maxRetries: 0 });
    const err = await viaSecond.chat.completions
      .create({ model, messages, max_tokens: 2, stream: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    const apiErr = err as APIError;
    expect(apiErr.status).toBe(429);
    expect(apiErr.headers?.get('retry-after')).toBe('1');
    expect(apiErr.type).toBe('rate_limit_error');
    expect(apiErr.code).toBe('concurrent_streams');
    expect(apiErr.message).toContain('1 concurrent streams');
    // A request that does not stream is not held back by the stream limit.
    const plain = await viaSecond.chat.completions.create({ model, messages, max_tokens: 2 });
    expect(plain.choices[0].message.role).toBe('assistant');

    // The client goes away: the proxy gives the slot back, and the other process admits a stream.
    ac.abort();
    await iterator.return?.().catch(() => undefined);
    await until('a stream admitted again', async () => {
      const r = await post(second, k.key, { max_tokens: 2, stream: true });
      await r.text();
      return r.status === 200;
    });
    await until('no slot left in Redis', async () => (await redis.zcard(limitKeys(k.id).streams)) === 0);
  });

  it('tokens from the engine’s usage are charged: the other process refuses the key with Retry-After', async () => {
    await setLimits({ requestsPerMinute: null, tokensPerMinute: 50, concurrentStreams: null });
    const k = await newKey('few-tokens');
    const r = await post(s.t, k.key, { max_tokens: 60, ignore_eos: true });
    expect(r.status).toBe(200);
    const { usage } = (await r.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const charged = usage.prompt_tokens + usage.completion_tokens;
    expect(charged).toBeGreaterThan(60);
    await until(
      'the tokens charged in Redis',
      async () => Number(await redis.hget(limitKeys(k.id).tpm, 'l')) > 50,
    );

    const refused = await post(second, k.key, { max_tokens: 2 });
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'tokens_per_minute' });
    expect(body.error.message).toContain('50 tokens per minute');
    // The excess over 50 drains at 50 tokens per minute (1.2 s per token).
    const retryAfter = Number(refused.headers.get('retry-after'));
    const expected = Math.ceil(((charged - 50) * 60) / 50);
    expect(retryAfter).toBeGreaterThanOrEqual(expected - 1);
    expect(retryAfter).toBeLessThanOrEqual(expected);

    // Streams are charged too, even when the client did not ask for usage.
    const k2 = await newKey('streamed-tokens');
    const streamed = await post(second, k2.key, { max_tokens: 5, ignore_eos: true, stream: true });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).not.toContain('"usage"');
    await until(
      'the streamed tokens charged',
      async () => Number(await redis.hget(limitKeys(k2.id).tpm, 'l')) >= 5,
    );

    // Usage: the admitted request is recorded under its key, the refused one is not.
    const row = await until('usage of the key written', async () => {
      const u = await s.t.call('GET', '/api/v1/usage?groupBy=key', { key: s.member });
      return (u.body?.data ?? []).find((d: { apiKeyId: string }) => d.apiKeyId === k.id);
    });
    expect(row).toMatchObject({
      keyName: 'few-tokens',
      requests: 1,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
    });
  });
});
