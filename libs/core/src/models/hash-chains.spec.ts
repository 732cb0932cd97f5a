import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { HashChains } from './hash-chains';
import { Sha256Threads } from './sha256-threads';
import { inThreadSha256, Sha256Factory } from './whole-file-hash';

const parts = [randomBytes(1000), randomBytes(1000), randomBytes(1000), randomBytes(500)];
const whole = createHash('sha256').update(Buffer.concat(parts)).digest('hex');
const fresh = async () => ({ hashedThrough: 0, state: null });

const threads = new Sha256Threads(2);
afterAll(() => threads.close());

describe.each<[string, Sha256Factory]>([
  ['on the calling thread', inThreadSha256],
  ['on worker threads', threads],
])('HashChains, hashing %s', (_, hashers) => {
  async function finalDigest(states: Map<number, Uint8Array>, last: number): Promise<string> {
    return (await hashers.start(states.get(last)!)).digestHex();
  }

  it('hashes parts that overlap in time, in any completion order, without reading back', async () => {
    const chains = new HashChains(1 << 20, 15_000, hashers);
    const taps = await Promise.all([4, 2, 1, 3].map((n) => chains.tap('s', n, fresh)));
    const byN = new Map(taps.map((t) => [t.partNumber, t]));
    // interleaved chunks
    for (const [n, p] of parts.entries()) byN.get(n + 1)!.write(p.subarray(0, 300));
    for (const [n, p] of parts.entries()) byN.get(n + 1)!.write(p.subarray(300));
    const states = new Map<number, Uint8Array>();
    for (const n of [3, 4, 1, 2]) for (const [k, v] of await byN.get(n)!.succeed()) states.set(k, v);
    expect([...states.keys()].sort()).toEqual([1, 2, 3, 4]);
    expect(await finalDigest(states, 4)).toBe(whole);
    expect(chains.held).toBe(0);
  });

  it('a held part that is still streaming when the chain reaches it continues live', async () => {
    const chains = new HashChains(1 << 20, 15_000, hashers);
    const t1 = await chains.tap('s', 1, fresh);
    const t2 = await chains.tap('s', 2, fresh);
    t2.write(parts[1].subarray(0, 100));
    t1.write(parts[0]);
    const s1 = await t1.succeed();
    expect([...s1.keys()]).toEqual([1]);
    t2.write(parts[1].subarray(100));
    const s2 = await t2.succeed();
    const h = await hashers.start(s2.get(2)!);
    expect(await h.digestHex()).toBe(
      createHash('sha256')
        .update(Buffer.concat(parts.slice(0, 2)))
        .digest('hex'),
    );
  });

  it('makes a part wait for memory (backpressure) and holds it once the chain moved on', async () => {
    const chains = new HashChains(1500, 5_000, hashers);
    const t1 = await chains.tap('s', 1, fresh);
    const t2 = await chains.tap('s', 2, fresh);
    const t3 = await chains.tap('s', 3, fresh);
    t2.write(parts[1]);
    const waiting = t3.write(parts[2]);
    expect(waiting).toBeInstanceOf(Promise);
    t1.write(parts[0]);
    await t1.succeed(); // chain passes part 1, part 2 is fed from memory and turns live... but is not complete
    await waiting; // memory of part 2 was released: part 3 is held now
    expect(chains.held).toBe(1000);
    const s2 = await t2.succeed();
    const s3 = await t3.succeed();
    expect([...s2.keys(), ...s3.keys()]).toEqual([2, 3]);
    expect(await finalDigest(s3, 3)).toBe(
      createHash('sha256')
        .update(Buffer.concat(parts.slice(0, 3)))
        .digest('hex'),
    );
  });

  it('gives up holding a part when memory does not free in time, and never counts failed parts', async () => {
    const chains = new HashChains(1500, 50, hashers);
    const t1 = await chains.tap('s', 1, fresh);
    const t2 = await chains.tap('s', 2, fresh);
    const t3 = await chains.tap('s', 3, fresh);
    t2.write(parts[1]);
    await t3.write(parts[2]); // over budget for 50 ms: given up
    expect(chains.held).toBe(1000);
    await t3.succeed();
    t2.fail();
    expect(chains.held).toBe(0);
    t1.write(parts[0]);
    expect([...(await t1.succeed()).keys()]).toEqual([1]);
  });

  it('continues from a saved state (another process or a restart hashed the first parts)', async () => {
    const h = await hashers.start(null);
    h.update(parts[0]);
    const chains = new HashChains(1 << 20, 15_000, hashers);
    const t2 = await chains.tap('s', 2, async () => ({ hashedThrough: 1, state: await h.save() }));
    for (const p of parts.slice(1)) t2.write(p);
    const states = await t2.succeed();
    expect(await finalDigest(states, 2)).toBe(
      createHash('sha256').update(Buffer.concat(parts)).digest('hex'),
    );
  });

  it('a second upload of a part still streaming (client gone and back) starts a new chain; the first adds nothing', async () => {
    const chains = new HashChains(1 << 20, 15_000, hashers);
    const stale = await chains.tap('s', 1, fresh);
    stale.write(parts[0].subarray(0, 400)); // the client went away mid-part; the server has not noticed yet
    const again = await chains.tap('s', 1, fresh);
    again.write(parts[0]);
    stale.write(parts[0].subarray(400, 600)); // late bytes of the dead request
    const states = new Map(await again.succeed());
    expect(stale.fail()).toBe(false); // its chain is gone: nothing to drop (the new chain lives on)
    for (const [n, p] of parts.slice(1).entries()) {
      const t = await chains.tap('s', n + 2, fresh);
      t.write(p);
      for (const [k, v] of await t.succeed()) states.set(k, v);
    }
    expect(await finalDigest(states, 4)).toBe(whole);
  });

  it('a tap of a dropped chain saves no state, even when it completes', async () => {
    const chains = new HashChains(1 << 20, 15_000, hashers);
    const t1 = await chains.tap('s', 1, fresh);
    const t2 = await chains.tap('s', 2, fresh);
    t2.write(parts[1]);
    chains.drop('s');
    t1.write(parts[0]);
    expect((await t1.succeed()).size).toBe(0);
    expect((await t2.succeed()).size).toBe(0);
    expect(chains.held).toBe(0);
  });
});
