import { describe, expect, it } from 'vitest';
import { SseRelay, UsageTail, usageFromJsonText } from './usage';

const chunk = (content: string) =>
  `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}\n\n`;
const usageChunk =
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"total_tokens":17,"completion_tokens":5,"prompt_tokens_details":null}}\n\n';
const done = 'data: [DONE]\n\n';

function relay(drop: boolean, pieces: string[]): { out: string; usage: unknown } {
  const r = new SseRelay(drop);
  let out = '';
  for (const p of pieces) out += r.push(Buffer.from(p)).toString();
  out += r.rest().toString();
  return { out, usage: r.usage };
}

/** Every way of cutting `s` into two pieces. */
function splits(s: string): string[][] {
  return Array.from({ length: s.length - 1 }, (_, i) => [s.slice(0, i + 1), s.slice(i + 1)]);
}

describe('SseRelay', () => {
  const stream = chunk('Hello') + chunk(' "usage":{ world') + usageChunk + done;

  it.each([
    [
      'drops the usage chunk the caller did not ask for',
      true,
      chunk('Hello') + chunk(' "usage":{ world') + done,
    ],
    ['keeps it when the caller asked', false, stream],
  ])('%s, and reads the usage either way', (_, drop, expected) => {
    const { out, usage } = relay(drop, [stream]);
    expect(out).toBe(expected);
    expect(usage).toEqual({ promptTokens: 12, completionTokens: 5 });
  });

  it('gives the same bytes and usage however the stream is cut into reads', () => {
    for (const pieces of splits(stream)) {
      expect(relay(true, pieces)).toEqual({
        out: chunk('Hello') + chunk(' "usage":{ world') + done,
        usage: { promptTokens: 12, completionTokens: 5 },
      });
    }
  });

  it('forwards complete events at once and holds only an incomplete one', () => {
    const r = new SseRelay(true);
    const first = chunk('a');
    const second = chunk('b');
    expect(r.push(Buffer.from(first + second.slice(0, 10))).toString()).toBe(first);
    expect(r.push(Buffer.from(second.slice(10))).toString()).toBe(second);
  });

  it('passes a chunk without usage through as the same buffer (no copy)', () => {
    const r = new SseRelay(true);
    const b = Buffer.from(chunk('x') + chunk('y'));
    expect(r.push(b)).toBe(b);
  });

  it('keeps a content chunk that also carries usage (continuous usage stats)', () => {
    const withUsage =
      'data: {"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n';
    expect(relay(true, [withUsage + done])).toEqual({
      out: withUsage + done,
      usage: { promptTokens: 3, completionTokens: 1 },
    });
  });
});

describe('usage of a non-streamed body', () => {
  const body = JSON.stringify({
    id: 'x',
    choices: [{ message: { content: 'a "usage":{"prompt_tokens":999} b' } }],
    usage: { prompt_tokens: 7, total_tokens: 10, completion_tokens: 3, prompt_tokens_details: null },
    kv_transfer_params: null,
  });

  it.each([
    ['a chat completion', body, { promptTokens: 7, completionTokens: 3 }],
    [
      'embeddings (no completion tokens)',
      '{"data":[],"usage":{"prompt_tokens":4,"total_tokens":4}}',
      { promptTokens: 4, completionTokens: 0 },
    ],
    ['a body without usage', '{"error":{"message":"no"}}', undefined],
    ['a truncated body', '{"usage":{"prompt_tokens":4,', undefined],
  ])('%s', (_, text, expected) => {
    expect(usageFromJsonText(Buffer.from(text))).toEqual(expected);
  });

  it('UsageTail finds the usage from the last bytes of a long body read in pieces', () => {
    const long = `{"data":[${Array.from({ length: 3000 }, (_, i) => i).join(',')}],"usage":{"prompt_tokens":5,"completion_tokens":0}}`;
    const tail = new UsageTail(256);
    for (let i = 0; i < long.length; i += 100) tail.push(Buffer.from(long.slice(i, i + 100)));
    expect(tail.usage()).toEqual({ promptTokens: 5, completionTokens: 0 });
  });
});
