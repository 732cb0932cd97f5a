// The SGLang dialect of the simulated engine: what differs from vLLM's server on the wire.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type EngineHandle, type EngineOptions } from './index';
import { metric, openRequest, post, scrape, sseData, waitFor } from './test-helpers';

const SGLANG: EngineOptions = {
  kind: 'sglang',
  host: '127.0.0.1',
  port: 0,
  model: '/models/llama/v1',
  servedModelNames: ['llama'],
  tpotMs: 1,
  ttftMs: 2,
  eosProbability: 0,
  maxModelLen: 64,
};

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'llama',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('engine-sim, SGLang dialect: routes', () => {
  let engine: EngineHandle;
  beforeAll(async () => {
    engine = await startEngine(SGLANG);
  });
  afterAll(() => engine.close());

  it('is an SGLang engine', () => {
    expect(engine.kind).toBe('sglang');
  });

  it('serves /health, /health_generate and /get_model_info; not vLLM’s /version or /ping', async () => {
    for (const path of ['/health', '/health_generate']) {
      const r = await fetch(`${engine.url}${path}`);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('');
    }
    for (const path of ['/get_model_info', '/model_info']) {
      expect(await (await fetch(`${engine.url}${path}`)).json()).toEqual({
        model_path: '/models/llama/v1',
        tokenizer_path: '/models/llama/v1',
        is_generation: true,
        preferred_sampling_params: null,
        weight_version: 'default',
        has_image_understanding: false,
        has_audio_understanding: false,
      });
    }
    for (const path of ['/version', '/ping']) {
      const r = await fetch(`${engine.url}${path}`);
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ detail: 'Not Found' });
    }
    expect((await fetch(`${engine.url}/get_model_info`, { method: 'POST' })).status).toBe(405);
  });

  it('lists its served name, owned by sglang', async () => {
    const models = (await (await fetch(`${engine.url}/v1/models`)).json()) as {
      data: Record<string, unknown>[];
    };
    expect(models.data).toEqual([
      {
        id: 'llama',
        object: 'model',
        created: expect.any(Number),
        owned_by: 'sglang',
        root: 'llama',
        parent: null,
        max_model_len: 64,
      },
    ]);
  });

  it('answers a chat completion in its own shape: matched_stop, reasoning fields, metadata', async () => {
    const r = await post(`${engine.url}/v1/chat/completions`, chat('hello there', { max_tokens: 3 }));
    expect(r.status).toBe(200);
    const body = r.json as Record<string, unknown>;
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'llama',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: expect.any(String),
            reasoning_content: null,
            tool_calls: null,
          },
          logprobs: null,
          finish_reason: 'length',
          matched_stop: null,
        },
      ],
      usage: {
        prompt_tokens: 9,
        total_tokens: 12,
        completion_tokens: 3,
        prompt_tokens_details: null,
        reasoning_tokens: 0,
      },
      metadata: null,
    });
    expect(r.text.endsWith(',"metadata":null}')).toBe(true);
  });

  it('an EOS stop reports the matched stop token', async () => {
    const eos = await startEngine({ ...SGLANG, eosProbability: 1 });
    try {
      const r = await post(`${eos.url}/v1/chat/completions`, chat('hi', { max_tokens: 5 }));
      expect((r.json as { choices: unknown[] }).choices[0]).toMatchObject({
        finish_reason: 'stop',
        matched_stop: 2,
      });
    } finally {
      await eos.close();
    }
  });

  it('echoes whatever model the request names (SGLang serves one model and does not check)', async () => {
    const r = await post(
      `${engine.url}/v1/chat/completions`,
      chat('x', { model: 'anything', max_tokens: 1 }),
    );
    expect(r.status).toBe(200);
    expect((r.json as { model: string }).model).toBe('anything');
    const none = await post(`${engine.url}/v1/completions`, { prompt: 'x', max_tokens: 1 });
    expect((none.json as { model: string }).model).toBe('default');
  });

  it('chat without max_tokens runs to the end of the context; completions stop at 16', async () => {
    const c = await post(`${engine.url}/v1/chat/completions`, chat('one two three'));
    expect((c.json as { usage: { prompt_tokens: number; completion_tokens: number } }).usage).toEqual(
      expect.objectContaining({ prompt_tokens: 10, completion_tokens: 64 - 10 }),
    );
    const p = await post(`${engine.url}/v1/completions`, { model: 'llama', prompt: 'one two three' });
    expect((p.json as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(16);
  });

  it('streams chat: role chunk, content chunks, then a finish chunk with an empty delta, then usage', async () => {
    const res = await post(
      `${engine.url}/v1/chat/completions`,
      chat('stream', { max_tokens: 3, stream: true, stream_options: { include_usage: true } }),
    );
    const events = sseData(res.text);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, unknown>);
    const choices = chunks.map((c) => (c.choices as Record<string, unknown>[])[0]);
    expect(choices[0]).toEqual({
      index: 0,
      delta: { role: 'assistant', content: '' },
      logprobs: null,
      finish_reason: null,
      matched_stop: null,
    });
    for (const c of choices.slice(1, 4)) {
      expect(c).toEqual({
        index: 0,
        delta: { content: expect.any(String) },
        logprobs: null,
        finish_reason: null,
        matched_stop: null,
      });
    }
    expect(choices[4]).toEqual({
      index: 0,
      delta: {},
      logprobs: null,
      finish_reason: 'length',
      matched_stop: null,
    });
    expect(chunks[5]).toMatchObject({
      object: 'chat.completion.chunk',
      choices: [],
      usage: { prompt_tokens: 8, completion_tokens: 3, total_tokens: 11, reasoning_tokens: 0 },
    });
    expect(chunks).toHaveLength(6);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.slice(0, 5).every((c) => !('usage' in c))).toBe(true);
  });

  it('streams completions with the finish reason on the last text chunk and usage:null on each', async () => {
    const res = await post(`${engine.url}/v1/completions`, {
      model: 'llama',
      prompt: 'go',
      max_tokens: 2,
      stream: true,
    });
    const chunks = sseData(res.text)
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { object: string; usage: unknown; choices: Record<string, unknown>[] });
    expect(chunks).toHaveLength(2);
    expect(chunks.map((c) => c.choices[0].finish_reason)).toEqual([null, 'length']);
    expect(chunks.every((c) => c.object === 'text_completion' && c.usage === null)).toBe(true);
  });

  it('takes stream_options without stream (vLLM refuses it)', async () => {
    const r = await post(
      `${engine.url}/v1/chat/completions`,
      chat('x', { max_tokens: 1, stream_options: { include_usage: true } }),
    );
    expect(r.status).toBe(200);
  });

  it('words errors as a flat object with "object":"error"', async () => {
    const long = Array.from({ length: 80 }, () => 'w').join(' ');
    const r = await post(`${engine.url}/v1/chat/completions`, chat(long));
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      object: 'error',
      message: "The input (87 tokens) is longer than the model's context length (64 tokens).",
      type: 'BadRequestError',
      param: null,
      code: 400,
    });
  });

  it('returns embeddings in its shape (no id, no created)', async () => {
    const r = await post(`${engine.url}/v1/embeddings`, { model: 'llama', input: ['a b', 'c'] });
    const body = r.json as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['data', 'model', 'object', 'usage']);
    expect((body.data as { index: number }[]).map((d) => d.index)).toEqual([0, 1]);
  });
});

describe('engine-sim, SGLang dialect: metrics', () => {
  it('exposes its scheduler gauges and request histograms under sglang:* names', async () => {
    const engine = await startEngine({
      ...SGLANG,
      maxNumSeqs: 1,
      tpotMs: 20,
      kvCacheTokens: 1000,
      maxModelLen: 4096,
    });
    try {
      const held = [1, 2, 3].map(() =>
        openRequest(`${engine.url}/v1/chat/completions`, chat('load', { max_tokens: 200, ignore_eos: true })),
      );
      await waitFor(
        async () => metric(await scrape(engine.url), 'sglang:num_queue_reqs') === 2,
        5000,
        '2 queued',
      );
      const text = await (await fetch(`${engine.url}/metrics`)).text();
      const labels = 'model_name="llama",engine_type="unified",tp_rank="0",pp_rank="0"';
      expect(text).toContain(`sglang:num_running_reqs{${labels}} 1.0`);
      expect(text).toContain(`sglang:num_queue_reqs{${labels}} 2.0`);
      expect(text).toMatch(new RegExp(`sglang:token_usage\\{${labels}\\} 0\\.0\\d+`));
      expect(text).toContain(`sglang:cache_hit_rate{${labels}} 0.0`);
      expect(text).toContain(`sglang:max_total_num_tokens{${labels}} 1000.0`);
      expect(text).toContain('# TYPE sglang:gen_throughput gauge');
      for (const h of ['time_to_first_token', 'inter_token_latency', 'e2e_request_latency'])
        expect(text).toContain(`# TYPE sglang:${h}_seconds histogram`);
      expect(text).toContain('sglang:time_to_first_token_seconds_bucket{model_name="llama",le="0.1"}');
      expect(text).not.toContain('vllm:');
      // Throughput is measured over at least a second of decoding.
      await new Promise((r) => setTimeout(r, 1100));
      await fetch(`${engine.url}/metrics`);
      expect(metric(await scrape(engine.url), 'sglang:gen_throughput')).toBeGreaterThan(10);
      for (const h of held) h.destroy();
      await waitFor(
        async () => metric(await scrape(engine.url), 'sglang:num_aborted_requests_total') === 3,
        5000,
        '3 aborted',
      );
      const after = await scrape(engine.url);
      expect([metric(after, 'sglang:num_running_reqs'), metric(after, 'sglang:num_queue_reqs')]).toEqual([
        0, 0,
      ]);
      expect(metric(after, 'sglang:num_requests_total')).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('serves no /metrics without --enable-metrics', async () => {
    const engine = await startEngine({ ...SGLANG, enableMetrics: false });
    try {
      expect((await fetch(`${engine.url}/metrics`)).status).toBe(404);
    } finally {
      await engine.close();
    }
  });
});

describe('engine-sim, SGLang dialect, with the openai client', () => {
  let engine: EngineHandle;
  let client: OpenAI;
  beforeAll(async () => {
    engine = await startEngine(SGLANG);
    client = new OpenAI({ baseURL: `${engine.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => engine.close());

  it('chat and streamed chat read as the client expects', async () => {
    const r = await client.chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
    });
    expect(r.choices[0].finish_reason).toBe('length');
    expect(r.usage?.completion_tokens).toBe(4);
    const stream = await client.chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text.trim().split(' ')).toHaveLength(4);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(4);
  });

  it('a refused request is an APIError with the status (its flat body carries no `error` key)', async () => {
    const long = Array.from({ length: 80 }, () => 'w').join(' ');
    const err = await client.chat.completions
      .create({ model: 'llama', messages: [{ role: 'user', content: long }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });
});
