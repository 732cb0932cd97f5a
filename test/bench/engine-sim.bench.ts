// Throughput of the simulated engine's HTTP path, with zero simulated latency:
//   npx vitest bench --run test/bench/engine-sim.bench.ts
import http from 'node:http';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { startEngine, type EngineHandle } from '@troupe/engine-sim';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(engine: EngineHandle, path: string, body: unknown): Promise<number> {
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

describe('engine-sim', () => {
  let engine: EngineHandle;
  beforeAll(async () => {
    engine = await startEngine({
      host: '127.0.0.1',
      port: 0,
      model: 'm',
      tpotMs: 0,
      ttftMs: 0,
      prefillMsPerToken: 0,
      eosProbability: 0,
    });
  });
  afterAll(async () => {
    agent.destroy();
    await engine.close();
  });

  const chat = (stream: boolean, maxTokens: number): Record<string, unknown> => ({
    model: 'm',
    messages: [{ role: 'user', content: 'benchmark the simulated engine' }],
    max_tokens: maxTokens,
    stream,
  });

  bench('chat, non-streaming, 16 tokens', async () => {
    await request(engine, '/v1/chat/completions', chat(false, 16)).catch((e: unknown) => { console.error('BENCHERR', e, engine); throw e; });
  });

  bench('chat, streaming, 64 tokens', async () => {
    await request(engine, '/v1/chat/completions', chat(true, 64));
  });

  bench('chat, 32 concurrent streams of 32 tokens', async () => {
    await Promise.all(
      Array.from({ length: 32 }, () => request(engine, '/v1/chat/completions', chat(true, 32))),
    );
  });

  bench('embeddings, 8 inputs', async () => {
    await request(engine, '/v1/embeddings', {
      model: 'm',
      input: Array.from({ length: 8 }, (_, i) => `input ${i}`),
    });
  });
});
