import { afterEach, describe, expect, it } from 'vitest';
import { startEngine, type EngineHandle } from './index';
import { PrefixCache, PromptBlocks } from './prefix-cache';
import { post } from './test-helpers';

const blocksOf = (text: string, size = 4): number[] => {
  const b = new PromptBlocks(size);
  b.words(text);
  return b.hashes;
};

describe('PromptBlocks', () => {
  it.each([
    ['only full blocks count', 'a b c d e f g', 1],
    ['two full blocks', 'a b c d e f g h', 2],
    ['whitespace does not make tokens', '  a\tb\n c   d  ', 1],
    ['a short prompt has none', 'a b c', 0],
  ])('%s', (_, text, n) => {
    expect(blocksOf(text)).toHaveLength(n);
  });

  it('chains: a block hash depends on every token before it', () => {
    const x = blocksOf('a b c d e f g h');
    const y = blocksOf('a b c d e f g h i j k l');
    const z = blocksOf('z b c d e f g h');
    expect(y.slice(0, 2)).toEqual(x);
    expect(z[0]).not.toBe(x[0]);
    expect(z[1]).not.toBe(x[1]);
    expect(blocksOf('ab c d e')[0]).not.toBe(blocksOf('a bc d e')[0]);
  });
});

describe('PrefixCache', () => {
  it('matches the longest cached prefix, stopping at the first miss', () => {
    const cache = new PrefixCache(4, 100);
    cache.insert(blocksOf('a b c d e f g h'));
    expect(cache.match(blocksOf('a b c d e f g h i j k l'))).toBe(2);
    expect(cache.match(blocksOf('a b c d x y z w'))).toBe(1);
    expect(cache.match(blocksOf('x b c d e f g h'))).toBe(0);
  });

  it('evicts the least recently used block beyond capacity', () => {
    const cache = new PrefixCache(4, 2);
    const a = blocksOf('a a a a');
    const b = blocksOf('b b b b');
    const c = blocksOf('c c c c');
    cache.insert(a);
    cache.insert(b);
    expect(cache.match(a)).toBe(1); // a used again: b is now the oldest
    cache.insert(c);
    expect(cache.size).toBe(2);
    expect(cache.match(a)).toBe(1);
    expect(cache.match(b)).toBe(0);
    expect(cache.match(c)).toBe(1);
  });
});

describe('engine-sim prefix caching', () => {
  let engine: EngineHandle | undefined;
  afterEach(() => engine?.close());

  const system = Array.from({ length: 64 }, (_, i) => `word${i}`).join(' ');
  const ask = (content: string): Record<string, unknown> => ({
    model: 'm',
    max_tokens: 1,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content },
    ],
  });
  const counters = async (url: string): Promise<{ queries: number; hits: number }> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const read = (name: string): number =>
      Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1]);
    return { queries: read('vllm:prefix_cache_queries_total'), hits: read('vllm:prefix_cache_hits_total') };
  };

  it('a second prompt with the same system prompt hits its blocks; vLLM counters say so', async () => {
    engine = await startEngine({
      host: '127.0.0.1',
      port: 0,
      model: 'm',
      tpotMs: 0,
      ttftMs: 0,
      blockSize: 16,
    });
    const first = await post(`${engine.url}/v1/chat/completions`, ask('hello there'));
    expect(first.status).toBe(200);
    const prompt = (first.json as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
    expect(await counters(engine.url)).toEqual({ queries: prompt, hits: 0 });

    await post(`${engine.url}/v1/chat/completions`, ask('something else entirely'));
    const after = await counters(engine.url);
    // The system message (4 markers + 64 words) and the user's markers: 4 full blocks of 16 shared.
    expect(after.hits).toBe(64);
    expect(engine.stats().prefixCacheHits).toBe(64);
  });

  it('caches nothing when prefix caching is off', async () => {
    engine = await startEngine({
      host: '127.0.0.1',
      port: 0,
      model: 'm',
      tpotMs: 0,
      ttftMs: 0,
      enablePrefixCaching: false,
    });
    await post(`${engine.url}/v1/chat/completions`, ask('a'));
    await post(`${engine.url}/v1/chat/completions`, ask('a'));
    expect((await counters(engine.url)).hits).toBe(0);
  });

  it('completions prompts share blocks too; SGLang reports the hit rate', async () => {
    engine = await startEngine({
      kind: 'sglang',
      host: '127.0.0.1',
      port: 0,
      model: 'm',
      tpotMs: 0,
      ttftMs: 0,
    });
    const url = `${engine.url}/v1/completions`;
    await post(url, { model: 'm', max_tokens: 1, prompt: `${system} one` });
    await post(url, { model: 'm', max_tokens: 1, prompt: `${system} two` });
    const text = await (await fetch(`${engine.url}/metrics`)).text();
    const rate = Number(/^sglang:cache_hit_rate\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
    // 64 of 130 prompt tokens were cached.
    expect(rate).toBeCloseTo(64 / 130, 5);
  });
});
