import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChainedSha256 } from './whole-file-hash';

describe('ChainedSha256', () => {
  it('gives the file sha256 when parts continue from saved states', async () => {
    const parts = [randomBytes(1000), randomBytes(777), randomBytes(5)];
    let state: Uint8Array | null = null;
    for (const p of parts) {
      const h = await ChainedSha256.start(state);
      h.update(p.subarray(0, 10));
      h.update(p.subarray(10));
      state = await h.save();
    }
    const final = await ChainedSha256.start(state);
    expect(await final.digestHex()).toBe(createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
  });
});
