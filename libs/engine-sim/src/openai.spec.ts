// The official `openai` client against the simulated engine.
import OpenAI, { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type EngineHandle } from './index';

describe('engine-sim with the openai client', () => {
  let engine: EngineHandle;
  let client: OpenAI;
  beforeAll(async () => {
    engine = await startEngine({
      host: '127.0.0.1',
      port: 0,
      model: 'org/model',
      tpotMs: 1,
      ttftMs: 2,
      eosProbability: 0,
    });
    client = new OpenAI({ baseURL: `${engine.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => engine.close());

  it('lists models', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['org/model']);
    expect(page.data[0].owned_by).toBe('vllm');
  });

  it('creates a chat completion', async () => {
    const r = await client.chat.completions.create({
      model: 'org/model',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Say something' }] },
      ],
      max_completion_tokens: 6,
    });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0].message.role).toBe('assistant');
    expect(r.choices[0].finish_reason).toBe('length');
    expect(r.usage?.completion_tokens).toBe(6);
    expect(r.usage?.prompt_tokens).toBe(3 + 4 + 2 + 4 + 3);
  });

  it('streams a chat completion with and without include_usage', async () => {
    for (const includeUsage of [true, false]) {
      const stream = await client.chat.completions.create({
        model: 'org/model',
        messages: [{ role: 'user', content: 'stream please' }],
        max_tokens: 5,
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | null | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        expect(chunk.object).toBe('chat.completion.chunk');
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice) continue;
        text += choice.delta.content ?? '';
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      expect(text.trim().split(' ')).toHaveLength(5);
      expect(finish).toBe('length');
      if (includeUsage) {
        expect(chunks).toBe(7);
        expect(usage).toMatchObject({ completion_tokens: 5, prompt_tokens: 2 + 4 + 3, total_tokens: 14 });
      } else {
        expect(chunks).toBe(6);
        expect(usage).toBeUndefined();
      }
    }
  });

  it('creates completions and embeddings', async () => {
    const c = await client.completions.create({ model: 'org/model', prompt: 'hello', max_tokens: 2 });
    expect(c.choices[0].text.trim().split(' ')).toHaveLength(2);

    // The client asks for base64 and decodes it.
    const e = await client.embeddings.create({ model: 'org/model', input: ['a', 'b'] });
    expect(e.data).toHaveLength(2);
    expect(e.data[0].embedding).toHaveLength(64);
    expect(Math.hypot(...e.data[0].embedding)).toBeCloseTo(1, 5);
    expect(e.usage.prompt_tokens).toBe(2);
  });

  it('raises NotFoundError for an unknown model', async () => {
    const err = await client.chat.completions
      .create({ model: 'other', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).status).toBe(404);
    expect((err as NotFoundError).message).toContain('The model `other` does not exist.');
  });
});
