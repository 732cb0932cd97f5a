import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Sha256Threads } from './sha256-threads';

const sha = (...bufs: Buffer[]) => createHash('sha256').update(Buffer.concat(bufs)).digest('hex');

describe('Sha256Threads', () => {
  let pool: Sha256Threads | undefined;
  afterEach(() => pool?.close());

  it('hashes many interleaved hashers on two threads, each continuing from a saved state', async () => {
    pool = new Sha256Threads(2);
    const files = Array.from({ length: 6 }, () => [randomBytes(70_000), randomBytes(1_000_001)]);
    const first = await Promise.all(files.map(() => pool!.start(null)));
    for (let off = 0; off < 70_000; off += 7_000)
      for (const [i, h] of first.entries()) h.update(files[i][0].subarray(off, off + 7_000));
    const states = await Promise.all(first.map((h) => h.save()));
    first.forEach((h) => h.dispose());
    const second = await Promise.all(states.map((s) => pool!.start(s)));
    second.forEach((h, i) => h.update(files[i][1]));
    const digests = await Promise.all(second.map((h) => h.digestHex()));
    expect(digests).toEqual(files.map((f) => sha(...f)));
    expect(pool.queuedBytes).toBe(0);
  });

  it('copies what it is given: the caller may reuse its buffer at once', async () => {
    pool = new Sha256Threads(1);
    const h = await pool.start(null);
    const buf = Buffer.from('hello ');
    h.update(buf);
    buf.write('world!');
    h.update(buf);
    expect(await h.digestHex()).toBe(sha(Buffer.from('hello world!')));
  });

  it('pushes back past its high-water mark and lets go once the worker catches up', async () => {
    pool = new Sha256Threads(1, 1 << 20);
    const h = await pool.start(null);
    const chunk = randomBytes(256 * 1024);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      const w = h.update(chunk);
      if (w) waits.push(w);
    }
    expect(waits.length).toBeGreaterThan(0); // 2 MiB posted against a 1 MiB mark
    await Promise.all(waits);
    expect(pool.queuedBytes).toBeLessThanOrEqual(256 * 1024);
    expect(await h.digestHex()).toBe(sha(...Array.from({ length: 8 }, () => chunk)));
  });

  it('a worker that dies fails its hashers; the next hasher gets a new worker', async () => {
    pool = new Sha256Threads(1);
    const h = await pool.start(null);
    h.update(Buffer.from('abc'));
    // Kill the thread behind the pool's back, as a crash would.
    const slot = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0];
    await slot.worker.terminate();
    await expect(h.save()).rejects.toThrow(/exited/);
    expect(h.update(Buffer.from('more'))).toBeUndefined(); // takes nothing, throws nothing
    const again = await pool.start(null);
    again.update(Buffer.from('abc'));
    expect(await again.digestHex()).toBe(sha(Buffer.from('abc')));
  });

  it('refuses new hashers once closed', async () => {
    pool = new Sha256Threads(1);
    await pool.close();
    await expect(pool.start(null)).rejects.toThrow(/closed/);
  });
});
