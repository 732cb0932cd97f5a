/**
 * The benchmark's load client: undici pools with keep-alive, request bodies serialised once, responses
 * read and checked (status 200, a complete body) without parsing. Kept small: it shares the machine's
 * cores with the processes it measures.
 */
import { Pool } from 'undici';

export interface Target {
  name: string;
  pool: Pool;
  headers: Record<string, string>;
  /** Non-streaming chat completion body. */
  chat: Buffer;
  /** Streaming chat completion body. */
  stream: Buffer;
}

export function makePool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
}

export class BadResponse extends Error {}

/** One non-streaming request; resolves with its latency in ms (request start to last body byte). */
export async function chatOnce(t: Target): Promise<number> {
  const t0 = performance.now();
  const res = await t.pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: t.headers,
    body: t.chat,
  });
  let bytes = 0;
  let last: Buffer | undefined;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    last = chunk;
  }
  const elapsed = performance.now() - t0;
  if (res.statusCode !== 200 || bytes === 0 || last![last!.length - 1] !== 0x7d /* } */)
    throw new BadResponse(
      `${t.name}: status ${res.statusCode}, ${bytes} bytes: ${last?.toString().slice(0, 300)}`,
    );
  return elapsed;
}

/**
 * One streamed request; resolves with the time to the first body chunk (the engine writes the role
 * chunk and the first token together, so this is the time to first token) and to the end, in ms.
 */
export async function streamOnce(t: Target): Promise<{ ttft: number; total: number }> {
  const t0 = performance.now();
  const res = await t.pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: t.headers,
    body: t.stream,
  });
  let ttft = -1;
  let tail = '';
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    if (ttft < 0) ttft = performance.now() - t0;
    tail =
      chunk.length >= 16
        ? chunk.toString('latin1', chunk.length - 16)
        : (tail + chunk.toString('latin1')).slice(-16);
  }
  const total = performance.now() - t0;
  if (res.statusCode !== 200 || !tail.includes('data: [DONE]'))
    throw new BadResponse(`${t.name}: stream status ${res.statusCode}, ended with ${JSON.stringify(tail)}`);
  return { ttft, total };
}

/** `n` requests one after the other (concurrency 1); latencies in ms. */
export async function sequential<T>(n: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

/**
 * `concurrency` loops sending requests back to back for `durationMs`; counts the requests completed and
 * the time until the last one ended.
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  fn: () => Promise<unknown>,
): Promise<{ requests: number; elapsedMs: number }> {
  const start = performance.now();
  const end = start + durationMs;
  let requests = 0;
  const loop = async () => {
    while (performance.now() < end) {
      await fn();
      requests++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { requests, elapsedMs: performance.now() - start };
}
