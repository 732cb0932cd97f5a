import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayStack, startGatewayStack, until } from './support';

const BODY_LIMIT = 64 * 1024;

describe('OpenAI-compatible gateway on the cluster simulator', () => {
  let s: GatewayStack;
  let client: OpenAI;
  const svc = 'chat';

  beforeAll(async () => {
    s = await startGatewayStack({ GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
    await s.deploy(svc, { initial: 2, min: 1, max: 2 });
    client = s.openai(s.inference);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const messages = [{ role: 'user' as const, content: 'Say something short.' }];

  it('lists the models the key may call', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models).toEqual([
      { id: svc, object: 'model', created: expect.any(Number), owned_by: s.projectName },
    ]);
    expect((await client.models.retrieve(svc)).id).toBe(svc);
  });

  it('answers a chat completion with the engine’s answer and usage', async () => {
    const r = await client.chat.completions.create({ model: svc, messages, max_tokens: 5, seed: 1 });
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe(svc);
    expect(r.choices[0].message.role).toBe('assistant');
    expect(r.usage).toMatchObject({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
    });
  });

  it('passes the engine’s bytes through unchanged, with request id and Server-Timing', async () => {
    const body = JSON.stringify({ model: svc, messages, max_tokens: 4, seed: 7, temperature: 0 });
    const [engine] = await s.engines(svc);
    const direct = await fetch(`${engine.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const viaGateway = await fetch(`${s.t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${s.inference}`,
        'x-request-id': 'req-abc-123',
      },
      body,
    });
    expect(viaGateway.status).toBe(200);
    expect(viaGateway.headers.get('x-request-id')).toBe('req-abc-123');
    expect(viaGateway.headers.get('server-timing')).toMatch(/^gateway;dur=\d+\.\d+/);
    const strip = (t: string) =>
      t.replace(/"(chatcmpl-[0-9a-f]+)"/, '"ID"').replace(/"created":\d+/, '"created":0');
    expect(strip(await viaGateway.text())).toBe(strip(await direct.text()));
  });

  it('streams a chat completion as SSE, without the usage chunk the client did not ask for', async () => {
    const res = await fetch(`${s.t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.inference}` },
      body: JSON.stringify({ model: svc, messages, max_tokens: 6, ignore_eos: true, stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const text = await res.text();
    expect(text).not.toContain('"usage"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);

    const stream = await client.chat.completions.create({
      model: svc,
      messages,
      max_tokens: 6,
      ignore_eos: true,
      stream: true,
    } as never);
    let content = '';
    let usageSeen = false;
    for await (const chunk of stream as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>) {
      if (chunk.usage) usageSeen = true;
      content += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(usageSeen).toBe(false);
    expect(content.length).toBeGreaterThan(0);
  });

  it('streams with include_usage: the usage chunk reaches the client', async () => {
    const stream = await client.chat.completions.create({
      model: svc,
      messages,
      max_tokens: 6,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    } as never);
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>)
      chunks.push(chunk);
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 6 });
  });

  it('answers a text completion and embeddings', async () => {
    const c = await client.completions.create({
      model: svc,
      prompt: 'Once upon a time',
      max_tokens: 3,
      ignore_eos: true,
    } as never);
    expect(c.object).toBe('text_completion');
    expect(c.usage?.completion_tokens).toBe(3);
    const e = await client.embeddings.create({ model: svc, input: ['a b c', 'd e'] });
    expect(e.data).toHaveLength(2);
    expect(e.data[0].embedding.length).toBeGreaterThan(0);
    expect(e.usage.prompt_tokens).toBeGreaterThan(0);
  });

  describe('errors, OpenAI-shaped', () => {
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${s.t.url}/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.inference}`, ...headers },
        body,
      });

    it.each([
      ['invalid JSON', '{"model":', 400, 'invalid_json', null],
      ['missing model', JSON.stringify({ messages }), 400, 'missing_required_parameter', 'model'],
      ['missing messages', JSON.stringify({ model: 'chat' }), 400, 'missing_required_parameter', 'messages'],
      ['an unknown model', JSON.stringify({ model: 'nope', messages }), 404, 'model_not_found', 'model'],
    ])('%s → %i %s', async (_, body, status, code, param) => {
      const r = await post('chat/completions', body);
      expect(r.status).toBe(status);
      const j = (await r.json()) as { error: Record<string, unknown> };
      expect(j.error).toEqual({ message: expect.any(String), type: expect.any(String), param, code });
    });

    it('401 for a bad key, through the SDK', async () => {
      const bad = s.openai('troupe_' + 'x'.repeat(43));
      const err = await bad.chat.completions.create({ model: svc, messages }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).status).toBe(401);
      expect((err as APIError).code).toBe('invalid_api_key');
    });

    it('403 when a key names another project', async () => {
      const r = await post('chat/completions', JSON.stringify({ model: svc, messages }), {
        'x-troupe-project': 'someone-else',
      });
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: { type: string } }).error.type).toBe('permission_error');
    });

    it('413 for a body over the limit', async () => {
      const big = JSON.stringify({
        model: svc,
        messages: [{ role: 'user', content: 'x'.repeat(BODY_LIMIT) }],
      });
      const r = await post('chat/completions', big);
      expect(r.status).toBe(413);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    });

    it('passes an engine’s own 4xx through (context too long)', async () => {
      const r = await post('completions', JSON.stringify({ model: svc, prompt: 'w '.repeat(5000) }));
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(
        /maximum context length/,
      );
    });
  });

  it('an admin key reaches the model, naming the project when asked', async () => {
    const admin = s.openai(s.t.adminKey);
    const r = await admin.chat.completions.create(
      { model: svc, messages, max_tokens: 2 },
      { headers: { 'x-troupe-project': s.projectName } },
    );
    expect(r.choices).toHaveLength(1);
  });

  it('two groups share the load', async () => {
    const before = await s.engines(svc);
    await Promise.all(
      Array.from({ length: 16 }, () =>
        client.chat.completions.create({ model: svc, messages, max_tokens: 3, ignore_eos: true } as never),
      ),
    );
    const after = await s.engines(svc);
    expect(after).toHaveLength(2);
    const served = after.map((e, i) => e.stats.finished - before[i].stats.finished);
    expect(served.reduce((a, b) => a + b, 0)).toBe(16);
    for (const n of served) expect(n).toBeGreaterThanOrEqual(4);
  });

  it('a client that goes away mid-stream aborts the engine’s work at once', async () => {
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: svc, messages, max_tokens: 3000, ignore_eos: true, stream: true } as never,
      { signal: ac.signal },
    );
    let chunks = 0;
    const started = await until('a sequence running', async () =>
      (await s.engines(svc)).some((e) => e.stats.running > 0),
    );
    expect(started).toBe(true);
    const before = (await s.engines(svc)).reduce((a, e) => a + e.stats.aborted, 0);
    try {
      for await (const _ of stream as unknown as AsyncIterable<unknown>) {
        if (++chunks === 3) {
          ac.abort();
        }
      }
    } catch {
      // the SDK reports the abort
    }
    const abortedAt = Date.now();
    await until(
      'engine running count back to 0',
      async () => (await s.engines(svc)).every((e) => e.stats.running === 0),
      5_000,
      5,
    );
    const ms = Date.now() - abortedAt;
    console.log(`[gateway e2e] engine running count dropped ${ms} ms after the client aborted`);
    expect((await s.engines(svc)).reduce((a, e) => a + e.stats.aborted, 0)).toBe(before + 1);
  });

  it('an engine failing mid-stream: the client gets an error event, the stream closes cleanly', async () => {
    const engines = await s.engines(svc);
    for (const e of engines) await s.faults(e.pod, { cutStreamsAfterChunks: 3 });
    try {
      const res = await fetch(`${s.t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.inference}` },
        body: JSON.stringify({ model: svc, messages, max_tokens: 50, ignore_eos: true, stream: true }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      const events = text.split('\n\n').filter(Boolean);
      expect(events.length).toBeGreaterThanOrEqual(3);
      const last = JSON.parse(events[events.length - 1].replace(/^data: /, ''));
      expect(last.error).toMatchObject({ type: 'server_error', code: 'upstream_error' });

      const stream = await client.chat.completions.create({
        model: svc,
        messages,
        max_tokens: 50,
        ignore_eos: true,
        stream: true,
      } as never);
      const err = await (async () => {
        for await (const _ of stream as unknown as AsyncIterable<unknown>) {
          // read until the error event
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
    } finally {
      for (const e of engines) await s.faults(e.pod, null);
    }
  });

  it('retries once on another group when a group answers 503, before any byte reached the client', async () => {
    const [bad, good] = await s.engines(svc);
    await s.faults(bad.pod, { errorRate: 1, errorStatus: 503 });
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          client.chat.completions.create({ model: svc, messages, max_tokens: 2 }),
        ),
      );
      expect(results).toHaveLength(8);
      const after = await s.engines(svc);
      expect(
        after.find((e) => e.pod === good.pod)!.stats.finished - good.stats.finished,
      ).toBeGreaterThanOrEqual(8);
    } finally {
      await s.faults(bad.pod, null);
    }
  });

  it('a group that becomes unready gets no more requests; with none ready the answer is 503 + Retry-After', async () => {
    const [a, b] = await s.engines(svc);
    await s.faults(a.pod, { unhealthy: true });
    try {
      await until('one group routed', () => s.endpointsOf(s.t, svc) === 1, 10_000);
      const before = (await s.engines(svc)).find((e) => e.pod === a.pod)!.stats.finished;
      await Promise.all(
        Array.from({ length: 10 }, () =>
          client.chat.completions.create({ model: svc, messages, max_tokens: 2 }),
        ),
      );
      expect((await s.engines(svc)).find((e) => e.pod === a.pod)!.stats.finished).toBe(before);

      await s.faults(b.pod, { unhealthy: true });
      await until('no group routed', () => s.endpointsOf(s.t, svc) === 0, 10_000);
      const r = await fetch(`${s.t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.inference}` },
        body: JSON.stringify({ model: svc, messages }),
      });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('5');
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('no_ready_group');
    } finally {
      await s.faults(a.pod, null);
      await s.faults(b.pod, null);
      await until('both groups routed again', () => s.endpointsOf(s.t, svc) === 2, 10_000);
    }
  });
});
