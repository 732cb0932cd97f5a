import { createSHA256, IHasher } from 'hash-wasm';

/**
 * SHA-256 over a file that arrives in parts, with the hasher's internal state saved after each part.
 * Node's crypto cannot export a running hash; hash-wasm can (`save()` / `load()`, ~116 bytes), so the
 * state after part n is stored with part n in PostgreSQL and part n+1 continues from it: the whole-file
 * digest is computed as the bytes stream in, without reading the object back, whenever parts arrive
 * after their predecessor. Parts that arrive before their predecessor was stored are re-read at
 * completion (only those).
 *
 * hash-wasm has no SHA-NI: about 125 MiB/s against ~1.1 GiB/s for Node's crypto on these machines, so
 * on the event loop it would take most of a core at upload speed. The server runs it on worker threads
 * (`Sha256Threads`, sha256-threads.ts); `ChainedSha256` is the same contract on the calling thread.
 */
export interface ResumableSha256 {
  /** Feeds bytes (copied; the caller may reuse the buffer). A promise means "wait before the next". */
  update(chunk: Uint8Array): void | Promise<void>;
  /** The state after every byte fed so far. */
  save(): Promise<Uint8Array>;
  digestHex(): Promise<string>;
  /** Frees the hasher; later calls fail. */
  dispose(): void;
}

/** Starts hashers: from the beginning, or from a state saved by `save()`. */
export interface Sha256Factory {
  start(fromState?: Uint8Array | null): Promise<ResumableSha256>;
}

/** On the calling thread. */
export class ChainedSha256 implements ResumableSha256 {
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

  save(): Promise<Uint8Array> {
    return Promise.resolve(this.hasher.save());
  }

  digestHex(): Promise<string> {
    return Promise.resolve(this.hasher.digest('hex'));
  }

  dispose(): void {}
}

export const inThreadSha256: Sha256Factory = { start: (state) => ChainedSha256.start(state) };
