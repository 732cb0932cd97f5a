// Throughput of the simulated engine's HTTP path, with zero simulated latency:
//   npx vitest bench --run test/bench/engine-sim.bench.ts
import http from 'node:http';
import { afterAll, bench, describe } from 'vitest';
import { startEngine } from '@troupe/engine-sim';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

async function request(path: string, body: unknown): Promise<number> {
  const engine = await started;
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: engine.host,
        port: engine.port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(bytes) : reject(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

// Benchmarks do not run beforeAll hooks: start the engine when the module loads.
const started = startEngine({
  host: '127.0.0.1',
  port: 0,
  model: 'm',
  tpotMs: 0,
  ttftMs: 0,
  prefillMsPerToken: 0,
  eosProbability: 0,
});

describe('engine-sim', () => {
  afterAll(async () => {
    agent.destroy();
    await (await started).close();
  });

  const chat = (stream: boolean, maxTokens: number): Record<string, unknown> => ({
    model: 'm',
    messages: [{ role: 'user', content: 'benchmark the simulated engine' }],
    max_tokens: maxTokens,
    stream,
  });

  bench('chat, non-streaming, 16 tokens', async () => {
    await request('/v1/chat/completions', chat(false, 16));
  });

  bench('chat, streaming, 64 tokens', async () => {
    await request('/v1/chat/completions', chat(true, 64));
  });

  bench('chat, 32 concurrent streams of 32 tokens', async () => {
    await Promise.all(Array.from({ length: 32 }, () => request('/v1/chat/completions', chat(true, 32))));
  });

  bench('embeddings, 8 inputs', async () => {
    await request('/v1/embeddings', {
      model: 'm',
      input: Array.from({ length: 8 }, (_, i) => `input ${i}`),
    });
  });
});
