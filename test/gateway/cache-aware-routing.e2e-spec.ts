import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoutingTable, ServiceTable } from '@troupe/gateway';
import { GatewayStack, startGatewayStack, until } from './support';

// Cache-aware routing (the default strategy) against two groups of simulated vLLM engines.
describe('gateway: cache-aware routing', () => {
  let s: GatewayStack;
  let client: OpenAI;
  const svc = 'cached';

  beforeAll(async () => {
    // No `user`-field affinity here: the SDK calls below send none anyway, this keeps it explicit.
    s = await startGatewayStack({ GATEWAY_AFFINITY_USER: 'false' });
    await s.deploy(svc, { initial: 2, min: 2, max: 2 });
    client = s.openai(s.inference);
  });
  afterAll(async () => {
    await s?.stop();
  });

  const systemPrompt = (topic: string): string =>
    `You are the ${topic} assistant. Answer briefly, cite the manual, and never invent facts. `.repeat(8);
  const ask = (topic: string, question: string, maxTokens = 2) =>
    client.chat.completions.create({
      model: svc,
      messages: [
        { role: 'system', content: systemPrompt(topic) },
        { role: 'user', content: question },
      ],
      max_tokens: maxTokens,
      ignore_eos: true,
    } as never);
  const finished = async (): Promise<Map<string, number>> =>
    new Map((await s.engines(svc)).map((e) => [e.pod, e.stats.finished]));
  const served = (before: Map<string, number>, after: Map<string, number>): number[] =>
    [...after].map(([pod, n]) => n - (before.get(pod) ?? 0));
  const route = () => {
    const id = s.t.app
      .get(ServiceTable)
      .services.find((x) => x.name === svc && x.projectId === s.projectId)!.id;
    return s.t.app.get(RoutingTable).route(id)!;
  };

  it('requests sharing a prefix land on the same group while load is balanced', async () => {
    const before = await finished();
    for (let i = 0; i < 8; i++) await ask('billing', `question number ${i} about my invoice`);
    const counts = served(before, await finished());
    expect(counts.sort((a, b) => b - a)).toEqual([8, 0]);
    // The engine computed the shared system prompt once: the other seven found it in its cache.
    const engine = (await s.engines(svc)).find((e) => e.stats.finished - (before.get(e.pod) ?? 0) === 8)!;
    const stats = engine.stats as { prefixCacheHits?: number };
    expect(stats.prefixCacheHits ?? 0).toBeGreaterThan(0);
  });

  it('a hot prefix spills over to the other group under load', async () => {
    const before = await finished();
    // All in flight at once (each decodes 40 tokens): the group holding the prefix reaches the load
    // bound and the rest goes to the other group.
    await Promise.all(Array.from({ length: 24 }, (_, i) => ask('support', `urgent ticket ${i}`, 40)));
    const counts = served(before, await finished());
    expect(counts.reduce((a, b) => a + b, 0)).toBe(24);
    for (const n of counts) expect(n).toBeGreaterThanOrEqual(6);
  });

  it('a group going unready drops its index entries', async () => {
    await ask('shipping', 'where is my parcel');
    const holder = route().endpoints.find((e) => route().prefixes.blocksOf(e.id) > 0 && e.pod !== undefined);
    expect(holder).toBeDefined();
    const holderId = holder!.id;
    expect(route().prefixes.blocksOf(holderId)).toBeGreaterThan(0);
    await s.faults(holder!.pod, { unhealthy: true });
    try {
      await until('one group routed', () => s.endpointsOf(s.t, svc) === 1, 10_000);
      expect(route().prefixes.blocksOf(holderId)).toBe(0);
      // The remaining group takes the prefix and is indexed for it.
      await ask('shipping', 'where is my parcel now');
      const [left] = route().endpoints;
      expect(route().prefixes.blocksOf(left.id)).toBeGreaterThan(0);
    } finally {
      await s.faults(holder!.pod, null);
      await until('both groups routed again', () => s.endpointsOf(s.t, svc) === 2, 10_000);
    }
  });
});
