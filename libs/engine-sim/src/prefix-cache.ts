// The engine's automatic prefix cache (vLLM's hashed KV blocks, SGLang's radix cache, alike here):
// a prompt is cut into blocks of `blockSize` tokens, each block named by a hash chained over every
// token before it, so a block hash stands for the whole prefix up to its end. Only full blocks are
// cached; the least recently used block is evicted first.

/** Chained hashes of the full token blocks of a prompt, in order. */
export class PromptBlocks {
  readonly hashes: number[] = [];
  private h1 = 0x811c9dc5;
  private h2 = 0x9747b28c;
  private inBlock = 0;

  constructor(private readonly blockSize: number) {}

  /** Feeds one token (a word, or a chat-template marker). */
  token(text: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    // Token boundary, so that "ab c" and "a bc" differ.
    this.h1 = Math.imul(h1 ^ 0x20, 0x01000193);
    this.h2 = Math.imul(h2 ^ 0x20, 0x5bd1e995);
    if (++this.inBlock === this.blockSize) {
      this.inBlock = 0;
      // 53 bits: a safe integer, Map key without a string.
      this.hashes.push((this.h1 >>> 0) * 0x200000 + ((this.h2 >>> 0) & 0x1fffff));
    }
  }

  /** Feeds every whitespace-separated word of `text` (the simulated tokenisation, see countWords). */
  words(text: string): void {
    let start = -1;
    for (let i = 0; i <= text.length; i++) {
      const c = i < text.length ? text.charCodeAt(i) : 32;
      const space = c === 32 || (c >= 9 && c <= 13);
      if (space) {
        if (start >= 0) this.token(text.slice(start, i));
        start = -1;
      } else if (start < 0) start = i;
    }
  }
}

export class PrefixCache {
  /** Block hash -> true, in least-recently-used-first order (a Map keeps insertion order). */
  private readonly blocks = new Map<number, true>();

  constructor(
    readonly blockSize: number,
    /** Capacity in blocks. */
    readonly capacity: number,
  ) {}

  get size(): number {
    return this.blocks.size;
  }

  /** Number of leading blocks of `hashes` that are cached; those are marked used. */
  match(hashes: readonly number[]): number {
    let n = 0;
    while (n < hashes.length && this.blocks.has(hashes[n])) {
      this.blocks.delete(hashes[n]);
      this.blocks.set(hashes[n], true);
      n++;
    }
    return n;
  }

  /** Caches the blocks of a computed prompt, evicting the least recently used beyond capacity. */
  insert(hashes: readonly number[]): void {
    for (const h of hashes) {
      this.blocks.delete(h);
      this.blocks.set(h, true);
    }
    let over = this.blocks.size - this.capacity;
    if (over <= 0) return;
    for (const h of this.blocks.keys()) {
      this.blocks.delete(h);
      if (--over === 0) break;
    }
  }
}
