import { createSHA256, IHasher } from 'hash-wasm';

/**
 * SHA-256 over a file that arrives in parts, with the hasher's internal state saved after each part.
 * Node's crypto cannot export a running hash; hash-wasm can (`save()` / `load()`, ~116 bytes), so the
 * state after part n is stored with part n in PostgreSQL and part n+1 continues from it: the whole-file
 * digest is computed as the bytes stream in, without reading the object back, whenever parts arrive
 * after their predecessor. Parts that arrive before their predecessor was stored are re-read at
 * completion (only those).
 */
export class ChainedSha256 {
  private constructor(private readonly hasher: IHasher) {}

  static async start(fromState?: Uint8Array | null): Promise<ChainedSha256> {
    const hasher = await createSHA256();
    if (fromState) hasher.load(fromState);
    else hasher.init();
    return new ChainedSha256(hasher);
  }

  update(chunk: Uint8Array): void {
    this.hasher.update(chunk);
  }

  save(): Uint8Array {
    return this.hasher.save();
  }

  digestHex(): string {
    return this.hasher.digest('hex');
  }
}
