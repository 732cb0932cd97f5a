/**
 * Routing benchmark: `npm run bench:routing`.
 *
 * Four groups (four simulated vLLM engines from libs/engine-sim, prefix caching on, prefill charged
 * per uncached token) behind a router in this process that decides with the gateway's own pure cores:
 * `pickEndpoint` (least-outstanding, affinity by conversation) and `promptBlocks` + `PrefixIndex` +
 * `pickCacheAware` (cache-aware), with this process's outstanding counts as the gateway keeps them.
 * The proxying itself is not measured here (`npm run bench:gateway` does that); what differs between
 * the strategies is only which group each request goes to.
 *
 * Workloads: "shared" — many users over 4 long system prompts, multi-turn conversations whose prompt
 * grows by each turn's answer; "unique" — no shared prefixes (each conversation its own system
 * prompt, one turn). Conversations arrive open-loop (Poisson) at half and nine tenths of the capacity
 * measured for least-outstanding's service time; each turn follows the previous answer after a short
 * think time. Prints per strategy: TTFT p50/p99, end-to-end p50/p99, throughput, the engines' prefix-
 * cache hit rate (from their vllm:prefix_cache_* counters), max/min requests per group over the mean,
 * and the targets as ratios against least-outstanding in the same run.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { startEngine, type EngineHandle } from '../../libs/engine-sim/src';
import { pickCacheAware } from '../../libs/gateway/src/picker/cache-aware';
import { pickEndpoint, type PickCandidate } from '../../libs/gateway/src/picker/picker';
import { PrefixIndex } from '../../libs/gateway/src/picker/prefix-index';
import { promptBlocks } from '../../libs/gateway/src/picker/prompt-prefix';
import { fnv1a, prng } from '../../libs/engine-sim/src/tokens';

type Strategy = 'least-outstanding' | 'affinity' | 'cache-aware';
const STRATEGIES: Strategy[] = ['least-outstanding', 'affinity', 'cache-aware'];
const GROUPS = 4;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

const ENGINE = {
  maxNumSeqs: 8,
  tpotMs: 4,
  ttftMs: 10,
  prefillMsPerToken: 0.25,
  kvCacheTokens: 6_144,
  maxModelLen: 16_384,
  blockSize: 16,
};
const ANSWER_TOKENS = 24;
const TURNS = 4;
const THINK_MS = 50;

interface Group extends PickCandidate {
  pool: Pool;
  engine: EngineHandle;
  served: number;
}

interface Message {
  role: string;
  content: string;
}

const words = (seed: number, n: number): string => {
  const rand = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`w${Math.floor(rand() * 5000)}`);
  return out.join(' ');
};

interface Workload {
  name: string;
  /** System prompt of conversation `i`. */
  system(i: number): string;
  turns: number;
}

const SHARED: Workload = {
  name: 'shared prefixes (4 system prompts x 1200 words, 4 turns)',
  system: (i) => words(1000 + (i % 4), 1200),
  turns: TURNS,
};
const UNIQUE: Workload = {
  name: 'no shared prefixes (one system prompt per conversation, 1 turn)',
  system: (i) => words(50_000 + i, 1200),
  turns: 1,
};

interface Sample {
  ttft: number;
  e2e: number;
}

async function run(
  groups: Group[],
  strategy: Strategy,
  workload: Workload,
  conversationsPerSecond: number,
  seed: number,
): Promise<{
  samples: Sample[];
  seconds: number;
  hitRate: number;
  maxOverMean: number;
  minOverMean: number;
}> {
  const index = new PrefixIndex();
  for (const g of groups) g.served = 0;
  const before = await Promise.all(groups.map((g) => cacheCounters(g.engine.url)));
  const samples: Sample[] = [];
  const rand = prng(seed);
  let tick = 0;
  const started = performance.now();
  const conversations: Promise<void>[] = [];

  const pick = (messages: Message[], conversation: string): Group => {
    const t = tick++;
    if (strategy === 'least-outstanding') return pickEndpoint({ candidates: groups, tick: t })!;
    if (strategy === 'affinity')
      return pickEndpoint({ candidates: groups, tick: t, affinityKey: conversation })!;
    const blocks = promptBlocks({ messages });
    const matched: number[] = [];
    const now = Date.now();
    index.match(
      blocks,
      groups.map((g) => g.id),
      now,
      matched,
    );
    const choice = pickCacheAware({ candidates: groups, matched, tick: t, firstBlock: blocks[0] });
    index.record(blocks, choice.candidate.id, now);
    return choice.candidate;
  };

  const converse = async (i: number): Promise<void> => {
    const messages: Message[] = [{ role: 'system', content: workload.system(i) }];
    for (let turn = 0; turn < workload.turns; turn++) {
      messages.push({ role: 'user', content: words(fnv1a(`${seed} ${i} ${turn}`), 100) });
      const g = pick(messages, `c${i}`);
      g.outstanding++;
      g.served++;
      const t0 = performance.now();
      let ttft = 0;
      let answer = '';
      try {
        const res = await g.pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'm',
            messages,
            max_tokens: ANSWER_TOKENS,
            ignore_eos: true,
            stream: true,
          }),
        });
        for await (const chunk of res.body) {
          if (ttft === 0) ttft = performance.now() - t0;
          for (const m of chunk.toString().matchAll(/"content":"([^"]*)"/g)) answer += m[1];
        }
      } finally {
        g.outstanding--;
      }
      samples.push({ ttft, e2e: performance.now() - t0 });
      messages.push({ role: 'assistant', content: answer });
      await sleep(THINK_MS);
    }
  };

  let i = 0;
  let next = 0;
  while (next < SECONDS * 1000) {
    const at = started + next;
    const wait = at - performance.now();
    if (wait > 0) await sleep(wait);
    conversations.push(converse(i++));
    next += (-Math.log(1 - rand()) * 1000) / conversationsPerSecond;
  }
  await Promise.all(conversations);
  const seconds = (performance.now() - started) / 1000;
  const after = await Promise.all(groups.map((g) => cacheCounters(g.engine.url)));
  let q = 0;
  let h = 0;
  after.forEach((a, k) => {
    q += a.queries - before[k].queries;
    h += a.hits - before[k].hits;
  });
  const mean = groups.reduce((a, g) => a + g.served, 0) / groups.length;
  return {
    samples,
    seconds,
    hitRate: q > 0 ? h / q : 0,
    maxOverMean: Math.max(...groups.map((g) => g.served)) / mean,
    minOverMean: Math.min(...groups.map((g) => g.served)) / mean,
  };
}

async function cacheCounters(url: string): Promise<{ queries: number; hits: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string): number =>
    Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { queries: read('vllm:prefix_cache_queries_total'), hits: read('vllm:prefix_cache_hits_total') };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

async function startGroups(tag: number): Promise<Group[]> {
  const groups: Group[] = [];
  for (let k = 0; k < GROUPS; k++) {
    const engine = await startEngine({
      host: '127.0.0.1',
      port: 0,
      model: 'm',
      eosProbability: 0,
      ...ENGINE,
    });
    groups.push({
      id: `group-${tag}-${k}`,
      outstanding: 0,
      served: 0,
      engine,
      pool: new Pool(engine.url, { connections: 64 }),
    });
  }
  return groups;
}

async function main(): Promise<void> {
  // Capacity: slots / service time of a turn with nothing cached (the least-outstanding worst case).
  const prompt = 1200 + 4 * 110 + 4 * ANSWER_TOKENS;
  const serviceMs = ENGINE.ttftMs + ENGINE.prefillMsPerToken * prompt + ENGINE.tpotMs * ANSWER_TOKENS;
  const requestsPerSecond = (GROUPS * ENGINE.maxNumSeqs * 1000) / serviceMs;
  console.log(
    `routing benchmark: ${GROUPS} groups, max-num-seqs ${ENGINE.maxNumSeqs}, ${ENGINE.prefillMsPerToken} ms/prompt token, ` +
      `${ENGINE.tpotMs} ms/output token, KV cache ${ENGINE.kvCacheTokens} tokens; capacity ~${requestsPerSecond.toFixed(0)} req/s uncached; ${SECONDS} s of arrivals per run\n`,
  );
  let tag = 0;
  for (const workload of [SHARED, UNIQUE]) {
    for (const load of [0.5, 0.9]) {
      const conversationsPerSecond = (load * requestsPerSecond) / workload.turns;
      console.log(
        `${workload.name}, ${load * 100}% of capacity (${conversationsPerSecond.toFixed(1)} conversations/s)`,
      );
      console.log(
        'strategy            TTFT p50   TTFT p99   e2e p50    e2e p99    req/s   hit rate  max/mean  min/mean',
      );
      const results = new Map<Strategy, { ttft50: number; rps: number }>();
      for (const strategy of STRATEGIES) {
        // Fresh engines per run: no cache carried over from the previous strategy.
        const groups = await startGroups(tag++);
        const r = await run(groups, strategy, workload, conversationsPerSecond, 42);
        await Promise.all(groups.map(async (g) => (await g.pool.close(), await g.engine.close())));
        const ttft = r.samples.map((s) => s.ttft);
        const e2e = r.samples.map((s) => s.e2e);
        const rps = r.samples.length / r.seconds;
        results.set(strategy, { ttft50: pct(ttft, 50), rps });
        console.log(
          `${strategy.padEnd(18)} ${ms(pct(ttft, 50))} ${ms(pct(ttft, 99))} ${ms(pct(e2e, 50))} ${ms(pct(e2e, 99))} ` +
            `${rps.toFixed(1).padStart(6)}   ${(r.hitRate * 100).toFixed(1).padStart(5)} %   ${r.maxOverMean.toFixed(2).padStart(6)}    ${r.minOverMean.toFixed(2).padStart(6)}`,
        );
      }
      const lo = results.get('least-outstanding')!;
      const ca = results.get('cache-aware')!;
      console.log(
        `  cache-aware / least-outstanding: TTFT p50 x${(ca.ttft50 / lo.ttft50).toFixed(2)}, throughput x${(ca.rps / lo.rps).toFixed(2)}\n`,
      );
    }
  }
}

const ms = (v: number): string => `${v.toFixed(0).padStart(6)} ms`;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
