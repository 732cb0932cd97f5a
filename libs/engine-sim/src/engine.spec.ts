import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type EngineHandle, type EngineOptions } from './index';
import { metric, openRequest, parseMetrics, post, scrape, sseData, waitFor } from './test-helpers';

const FAST: EngineOptions = {
  host: '127.0.0.1',
  port: 0,
  model: '/models/llama',
  servedModelNames: ['llama', 'llama-alias'],
  tpotMs: 1,
  ttftMs: 2,
  eosProbability: 0,
  maxModelLen: 64,
};

const chat = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'llama',
  messages: [{ role: 'user', content }],
  ...extra,
});

interface ChatResponse {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: string; content: string };
    logprobs: null;
    finish_reason: string;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

describe('engine-sim: OpenAI endpoints', () => {
  let engine: EngineHandle;
  beforeAll(async () => {
    engine = await startEngine(FAST);
  });
  afterAll(() => engine.close());

  it('serves /health, /version and /v1/models like vLLM', async () => {
    const health = await fetch(`${engine.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');

    const version = (await (await fetch(`${engine.url}/version`)).json()) as { version: string };
    expect(version.version).toMatch(/^\d+\.\d+\.\d+/);

    const models = (await (await fetch(`${engine.url}/v1/models`)).json()) as {
      object: string;
      data: { id: string; object: string; owned_by: string; root: string; max_model_len: number }[];
    };
    expect(models.object).toBe('list');
    expect(models.data.map((m) => m.id)).toEqual(['llama', 'llama-alias']);
    expect(models.data[0]).toMatchObject({
      object: 'model',
      owned_by: 'vllm',
      root: '/models/llama',
      max_model_len: 64,
    });
    expect(engine.servedModelNames).toEqual(['llama', 'llama-alias']);
    expect(engine.url).toBe(`http://127.0.0.1:${engine.port}`);

    const unknown = await fetch(`${engine.url}/nope`);
    expect(unknown.status).toBe(404);
    const wrongMethod = await fetch(`${engine.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
  });

  it('answers a non-streaming chat completion', async () => {
    const { status, json } = await post(
      `${engine.url}/v1/chat/completions`,
      chat('hello there world', { max_tokens: 5 }),
    );
    expect(status).toBe(200);
    const r = json as ChatResponse;
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe('llama');
    expect(typeof r.created).toBe('number');
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0]).toMatchObject({ index: 0, logprobs: null, finish_reason: 'length' });
    expect(r.choices[0].message.role).toBe('assistant');
    expect(r.choices[0].message.content.trim().split(' ')).toHaveLength(5);
    // 3 words + 4 for the message + 3 for the reply prefix
    expect(r.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
  });

  it('answers to every served name, and 404s unknown models like vLLM', async () => {
    const alias = await post(`${engine.url}/v1/chat/completions`, { ...chat('hi'), model: 'llama-alias' });
    expect(alias.status).toBe(200);
    expect((alias.json as ChatResponse).model).toBe('llama-alias');

    const { status, json } = await post(`${engine.url}/v1/chat/completions`, {
      ...chat('hi'),
      model: 'gpt-9',
    });
    expect(status).toBe(404);
    expect(json).toEqual({
      error: { message: 'The model `gpt-9` does not exist.', type: 'NotFoundError', param: null, code: 404 },
    });
  });

  it('rejects bad requests with 400 BadRequestError', async () => {
    const cases: unknown[] = [
      '{"model": "llama", "messages": [',
      '[1, 2]',
      { model: 'llama' },
      { model: 'llama', messages: [] },
      { model: 'llama', messages: [{ content: 'no role' }] },
      chat('hi', { max_tokens: 0 }),
      chat('hi', { max_tokens: 'ten' }),
      chat('hi', { stream_options: { include_usage: true } }),
      { model: 'llama', prompt: '' },
    ];
    for (const body of cases) {
      const url = `${engine.url}/v1/${typeof body === 'object' && body !== null && 'prompt' in body ? 'completions' : 'chat/completions'}`;
      const { status, json } = await post(url, body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(json).toMatchObject({ error: { type: 'BadRequestError', param: null, code: 400 } });
    }
  });

  it('rejects prompts beyond the context and caps max_tokens to what is left', async () => {
    const long = Array.from({ length: 70 }, () => 'word').join(' ');
    const { status, json } = await post(`${engine.url}/v1/completions`, { model: 'llama', prompt: long });
    expect(status).toBe(400);
    expect((json as { error: { message: string } }).error.message).toMatch(
      /^This model's maximum context length is 64 tokens\. However, your request has 70 input tokens/,
    );

    const fifty = Array.from({ length: 50 }, () => 'word').join(' ');
    const capped = await post(`${engine.url}/v1/completions`, {
      model: 'llama',
      prompt: fifty,
      max_tokens: 100,
    });
    expect(capped.status).toBe(200);
    expect((capped.json as ChatResponse).usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 14 });
  });

  it('streams a chat completion as SSE chunks, with and without usage', async () => {
    for (const includeUsage of [false, true]) {
      const res = await fetch(`${engine.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify(
          chat('tell me a story', {
            max_tokens: 4,
            stream: true,
            ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
          }),
        ),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = sseData(await res.text());
      expect(events.at(-1)).toBe('[DONE]');
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, unknown>);
      expect(chunks[0]).toMatchObject({
        object: 'chat.completion.chunk',
        model: 'llama',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      });
      const ids = new Set(chunks.map((c) => c.id));
      expect(ids.size).toBe(1);
      const content = chunks.slice(1, 5) as {
        choices: { delta: { content: string }; finish_reason: string | null }[];
      }[];
      expect(content).toHaveLength(4);
      for (const c of content) expect(c.choices[0].delta.content).toMatch(/^\S+ $/);
      expect(content.map((c) => c.choices[0].finish_reason)).toEqual([null, null, null, 'length']);
      if (includeUsage) {
        expect(chunks).toHaveLength(6);
        expect(chunks[5]).toMatchObject({
          choices: [],
          usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
        });
      } else {
        expect(chunks).toHaveLength(5);
        expect(chunks.some((c) => 'usage' in c)).toBe(false);
      }
    }
  });

  it('answers completions, streaming or not', async () => {
    const { status, json } = await post(`${engine.url}/v1/completions`, {
      model: 'llama',
      prompt: 'once upon a time',
      max_tokens: 3,
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({
      object: 'text_completion',
      choices: [{ index: 0, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
    });
    const text = (json as { id: string; choices: { text: string }[] }).choices[0].text;
    expect((json as { id: string }).id).toMatch(/^cmpl-/);

    const res = await fetch(`${engine.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'llama',
        prompt: 'once upon a time',
        max_tokens: 3,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { object: string; choices: { text: string }[] });
    expect(chunks).toHaveLength(4);
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(
      chunks
        .slice(0, 3)
        .map((c) => c.choices[0].text)
        .join(''),
    ).toBe(text);
    expect(chunks[3]).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });
  });

  it('supports n > 1 and several prompts', async () => {
    const { json } = await post(`${engine.url}/v1/completions`, {
      model: 'llama',
      prompt: ['a b', 'c d e'],
      n: 2,
      max_tokens: 2,
    });
    const r = json as {
      choices: { index: number; text: string }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(r.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 8 });
    expect(r.choices[0].text).not.toBe(r.choices[1].text);
  });

  it('is deterministic: same prompt and seed give the same text', async () => {
    const ask = async (content: string, seed?: number): Promise<string> => {
      const { json } = await post(
        `${engine.url}/v1/chat/completions`,
        chat(content, { max_tokens: 12, seed }),
      );
      return (json as ChatResponse).choices[0].message.content;
    };
    expect(await ask('the same prompt', 7)).toBe(await ask('the same prompt', 7));
    expect(await ask('the same prompt')).toBe(await ask('the same prompt'));
    expect(await ask('the same prompt', 7)).not.toBe(await ask('the same prompt', 8));
    expect(await ask('the same prompt', 7)).not.toBe(await ask('another prompt', 7));
  });

  it('returns deterministic unit embeddings, as floats or base64', async () => {
    const { status, json } = await post(`${engine.url}/v1/embeddings`, {
      model: 'llama',
      input: ['a b c', 'd'],
    });
    expect(status).toBe(200);
    const r = json as {
      object: string;
      data: { index: number; object: string; embedding: number[] }[];
      usage: { prompt_tokens: number; total_tokens: number };
    };
    expect(r.object).toBe('list');
    expect(r.data.map((d) => [d.index, d.object])).toEqual([
      [0, 'embedding'],
      [1, 'embedding'],
    ]);
    expect(r.usage).toMatchObject({ prompt_tokens: 4, total_tokens: 4 });
    const v = r.data[0].embedding;
    expect(v).toHaveLength(64);
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);

    const again = await post(`${engine.url}/v1/embeddings`, {
      model: 'llama',
      input: 'a b c',
      encoding_format: 'base64',
    });
    const b64 = (again.json as { data: { embedding: string }[] }).data[0].embedding;
    const buf = Buffer.from(b64, 'base64');
    const floats = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
    expect(floats).toHaveLength(64);
    floats.forEach((x, i) => expect(x).toBeCloseTo(v[i], 6));
  });

  it('exposes vLLM metrics in Prometheus text format', async () => {
    const before = await scrape(engine.url);
    await post(`${engine.url}/v1/chat/completions`, chat('one two three', { max_tokens: 3 }));
    const res = await fetch(`${engine.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const samples = parseMetrics(text);
    const labels = '{engine="0",model_name="llama"}';
    for (const [name, type] of [
      ['vllm:num_requests_running', 'gauge'],
      ['vllm:num_requests_waiting', 'gauge'],
      ['vllm:kv_cache_usage_perc', 'gauge'],
      ['vllm:prompt_tokens_total', 'counter'],
      ['vllm:generation_tokens_total', 'counter'],
      ['vllm:request_success_total', 'counter'],
      ['vllm:time_to_first_token_seconds', 'histogram'],
      ['vllm:e2e_request_latency_seconds', 'histogram'],
      ['vllm:time_per_output_token_seconds', 'histogram'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
      expect(text).toContain(`# HELP ${name} `);
    }
    expect(samples.get(`vllm:num_requests_running${labels}`)).toBe(0);
    const delta = (name: string): number => (samples.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta(`vllm:prompt_tokens_total${labels}`)).toBe(10);
    expect(delta(`vllm:generation_tokens_total${labels}`)).toBe(3);
    expect(delta('vllm:request_success_total{engine="0",model_name="llama",finished_reason="length"}')).toBe(
      1,
    );
    expect(delta(`vllm:e2e_request_latency_seconds_count${labels}`)).toBe(1);
    expect(delta(`vllm:time_to_first_token_seconds_count${labels}`)).toBe(1);
    expect(
      samples.get('vllm:time_to_first_token_seconds_bucket{engine="0",model_name="llama",le="+Inf"}'),
    ).toBe(samples.get(`vllm:time_to_first_token_seconds_count${labels}`));
    expect(metric(samples, 'vllm:time_per_output_token_seconds_sum')).toBeGreaterThan(0);
  });
});

describe('engine-sim: addresses', () => {
  it('listens on any 127.0.0.0/8 address, like a pod IP, and picks a free port with 0', async () => {
    const engine = await startEngine({ ...FAST, host: '127.0.1.7', port: 0 });
    try {
      expect(engine.host).toBe('127.0.1.7');
      expect(engine.port).toBeGreaterThan(0);
      expect(engine.url).toBe(`http://127.0.1.7:${engine.port}`);
      expect((await fetch(`${engine.url}/health`)).status).toBe(200);
      await expect(startEngine({ ...FAST, host: '127.0.1.7', port: engine.port })).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      await engine.close();
    }
  });
});

describe('engine-sim: capacity', () => {
  let engine: EngineHandle;
  afterEach(() => engine?.close());

  it('runs at most maxNumSeqs sequences; the others wait in FIFO', async () => {
    const ttftMs = 10;
    const tpotMs = 20;
    const maxTokens = 10;
    engine = await startEngine({
      ...FAST,
      maxNumSeqs: 2,
      ttftMs,
      tpotMs,
      prefillMsPerToken: 0,
      maxModelLen: 4096,
    });
    const single = ttftMs + (maxTokens - 1) * tpotMs;
    const started = performance.now();
    const requests = Array.from({ length: 5 }, (_, i) =>
      post(`${engine.url}/v1/chat/completions`, chat(`request ${i}`, { max_tokens: maxTokens })),
    );
    let saw = false;
    await waitFor(
      async () => {
        const m = await scrape(engine.url);
        saw = metric(m, 'vllm:num_requests_running') === 2 && metric(m, 'vllm:num_requests_waiting') === 3;
        return saw;
      },
      5000,
      '2 running and 3 waiting',
    );
    expect(engine.stats()).toMatchObject({ running: 2, waiting: 3 });
    const kv = metric(await scrape(engine.url), 'vllm:kv_cache_usage_perc') ?? 0;
    expect(kv).toBeGreaterThan(0);
    expect(kv).toBeLessThan(1);
    const results = await Promise.all(requests);
    const elapsed = performance.now() - started;
    for (const r of results) expect((r.json as ChatResponse).usage.completion_tokens).toBe(maxTokens);
    // Three waves (2 + 2 + 1) of `single` ms each; allow timers to round down a little.
    expect(elapsed).toBeGreaterThanOrEqual(3 * single * 0.85);
    expect(engine.stats()).toMatchObject({ running: 0, waiting: 0, finished: 5, aborted: 0 });
  });

  it('holds back sequences whose prompt does not fit in the KV cache', async () => {
    engine = await startEngine({ ...FAST, maxNumSeqs: 8, kvCacheTokens: 30, tpotMs: 20, maxModelLen: 4096 });
    const prompt = Array.from({ length: 20 }, () => 'w').join(' ');
    const requests = Array.from({ length: 3 }, () =>
      post(`${engine.url}/v1/completions`, { model: 'llama', prompt, max_tokens: 5 }),
    );
    await waitFor(() => engine.stats().running + engine.stats().waiting === 3, 5000, 'requests to arrive');
    expect(engine.stats()).toMatchObject({ running: 1, waiting: 2 });
    await Promise.all(requests);
  });

  it('slows down with faults.slowFactor', async () => {
    engine = await startEngine({ ...FAST, ttftMs: 10, tpotMs: 5, prefillMsPerToken: 0 });
    engine.setFaults({ slowFactor: 10 });
    const started = performance.now();
    await post(`${engine.url}/v1/chat/completions`, chat('x', { max_tokens: 3 }));
    expect(performance.now() - started).toBeGreaterThanOrEqual((10 + 2 * 5) * 10 * 0.85);
  });
});

describe('engine-sim: client disconnects', () => {
  let engine: EngineHandle;
  afterEach(() => engine?.close());

  it('aborts a running sequence when its client goes away, freeing the slot', async () => {
    engine = await startEngine({ ...FAST, maxNumSeqs: 1, tpotMs: 5, maxModelLen: 100_000 });
    const long = openRequest(
      `${engine.url}/v1/chat/completions`,
      chat('long', { max_tokens: 10_000, stream: true }),
    );
    await waitFor(() => engine.stats().running === 1, 5000, 'the long request to run');
    const next = post(`${engine.url}/v1/chat/completions`, chat('next', { max_tokens: 2 }));
    await waitFor(() => engine.stats().waiting === 1, 5000, 'the next request to wait');

    await long.response; // streaming: headers come at once
    long.destroy();
    const r = await next;
    expect(r.status).toBe(200);
    const stats = engine.stats();
    expect(stats).toMatchObject({ aborted: 1, finished: 2, running: 0, waiting: 0 });
    const m = await scrape(engine.url);
    expect(m.get('vllm:request_success_total{engine="0",model_name="llama",finished_reason="abort"}')).toBe(
      1,
    );
  });

  it('drops a waiting request when its client goes away', async () => {
    engine = await startEngine({ ...FAST, maxNumSeqs: 1, tpotMs: 5, maxModelLen: 100_000 });
    const first = post(`${engine.url}/v1/completions`, { model: 'llama', prompt: 'a', max_tokens: 40 });
    await waitFor(() => engine.stats().running === 1, 5000, 'the first request to run');
    const waiting = openRequest(`${engine.url}/v1/completions`, {
      model: 'llama',
      prompt: 'b',
      max_tokens: 5,
    });
    await waitFor(() => engine.stats().waiting === 1, 5000, 'the second request to wait');
    waiting.destroy();
    await waitFor(() => engine.stats().waiting === 0, 5000, 'the waiting request to leave');
    expect(engine.stats()).toMatchObject({ aborted: 1, running: 1 });
    expect((await first).status).toBe(200);
    expect(engine.stats()).toMatchObject({ aborted: 1, finished: 2, generationTokens: 40 });
  });

  it('close() ends every sequence in flight and stops listening', async () => {
    engine = await startEngine({ ...FAST, maxNumSeqs: 1, tpotMs: 5, maxModelLen: 100_000 });
    const a = openRequest(
      `${engine.url}/v1/chat/completions`,
      chat('a', { max_tokens: 10_000, stream: true }),
    );
    const b = openRequest(`${engine.url}/v1/chat/completions`, chat('b', { max_tokens: 10_000 }));
    await waitFor(() => engine.stats().running === 1 && engine.stats().waiting === 1, 5000, 'both requests');
    await engine.close();
    await Promise.all([a.done, b.done]);
    expect(engine.stats()).toMatchObject({ running: 0, waiting: 0, aborted: 2 });
    await expect(fetch(`${engine.url}/health`)).rejects.toThrow();
  });
});

describe('engine-sim: faults', () => {
  let engine: EngineHandle;
  afterEach(() => engine?.close());

  it('fails readiness when unhealthy', async () => {
    engine = await startEngine(FAST);
    engine.setFaults({ unhealthy: true });
    expect((await fetch(`${engine.url}/health`)).status).toBe(503);
    engine.setFaults({ unhealthy: false });
    expect((await fetch(`${engine.url}/health`)).status).toBe(200);
  });

  it('answers errorStatus at errorRate 1', async () => {
    engine = await startEngine({ ...FAST, faults: { errorRate: 1 } });
    const r = await post(`${engine.url}/v1/chat/completions`, chat('x'));
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ error: { type: 'InternalServerError', code: 500 } });
    engine.setFaults({ errorStatus: 503 });
    const r2 = await post(`${engine.url}/v1/completions`, { model: 'llama', prompt: 'x' });
    expect(r2.status).toBe(503);
    engine.setFaults({ errorRate: 0 });
    expect((await post(`${engine.url}/v1/chat/completions`, chat('x'))).status).toBe(200);
    expect(engine.stats()).toMatchObject({ failed: 2, finished: 3 });
  });

  it('cuts streams after N content chunks', async () => {
    engine = await startEngine(FAST);
    engine.setFaults({ cutStreamsAfterChunks: 3 });
    const body = await new Promise<{ text: string; complete: boolean }>((resolve, reject) => {
      const data = JSON.stringify(chat('x', { max_tokens: 10, stream: true }));
      const req = http.request(
        `${engine.url}/v1/chat/completions`,
        { method: 'POST', agent: false },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('error', () => undefined);
          res.on('close', () => resolve({ text, complete: res.complete }));
        },
      );
      req.on('error', reject);
      req.end(data);
    });
    expect(body.complete).toBe(false);
    const events = sseData(body.text);
    expect(events).not.toContain('[DONE]');
    const contents = events
      .map((e) => JSON.parse(e) as { choices: { delta: { content?: string; role?: string } }[] })
      .filter((c) => c.choices[0].delta.role === undefined);
    expect(contents).toHaveLength(3);
    await waitFor(() => engine.stats().running === 0, 5000, 'the cut sequence to end');
    expect(engine.stats()).toMatchObject({ failed: 1, aborted: 0 });

    // Non-streaming requests are not affected.
    expect((await post(`${engine.url}/v1/chat/completions`, chat('x', { max_tokens: 10 }))).status).toBe(200);
  });
});
