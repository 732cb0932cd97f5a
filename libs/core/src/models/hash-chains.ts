import { inThreadSha256, ResumableSha256, Sha256Factory } from './whole-file-hash';

/**
 * Keeps the whole-file SHA-256 of each open upload session advancing while parts arrive in parallel.
 *
 * SHA-256 must see the bytes in order. A part that arrives while its predecessor is still streaming
 * is copied into memory (within a per-process budget) and hashed the moment the chain reaches it, so
 * parallel uploads to one server are hashed without reading anything back. Parts that could not be
 * held (budget exhausted, another server process, a restart) are read back from storage at
 * completion instead: correctness never depends on this cache, only speed does.
 */
export class HashChains {
  private readonly chains = new Map<string, Chain>();
  private heldBytes = 0;
  private waiters: (() => void)[] = [];

  /**
   * @param budgetBytes memory for held parts, per process
   * @param waitMs how long a part waits (its upload paused: backpressure) for memory to free up before
   *   it gives up being held and is read back at completion instead
   * @param hashers where the hashing runs (the server passes worker threads)
   */
  constructor(
    private readonly budgetBytes: number,
    readonly waitMs = 15_000,
    private readonly hashers: Sha256Factory = inThreadSha256,
  ) {}

  /**
   * Opens the tap for part `n` of a session. `load` gives the chain's starting point when this
   * process has none: the last part number with a saved state, and that state.
   */
  async tap(
    sessionId: string,
    n: number,
    load: () => Promise<{ hashedThrough: number; state: Uint8Array | null }>,
  ): Promise<PartTap> {
    let chain = this.chains.get(sessionId);
    // A second upload of a part that is still streaming into this chain (a client that went away and
    // came back before the server noticed): both would feed the same hasher. Neither can be trusted,
    // so the chain goes; this part starts a new one from the saved states.
    if (chain && (chain.live === n || chain.pending.has(n))) {
      this.drop(sessionId);
      chain = undefined;
    }
    if (!chain) {
      const { hashedThrough, state } = await load();
      const hasher = await this.hashers.start(state);
      // Another part of the same session may have created the chain while this one loaded.
      chain = this.chains.get(sessionId);
      if (!chain) {
        chain = new Chain(hasher, hashedThrough + 1);
        this.chains.set(sessionId, chain);
      } else hasher.dispose();
    }
    return new PartTap(this, chain, n);
  }

  /** Forgets a session (completed, aborted, or a retried part changed bytes already hashed). */
  drop(sessionId: string): void {
    const chain = this.chains.get(sessionId);
    if (!chain) return;
    // Parts still streaming into it add nothing from now on and save no state.
    chain.dead = true;
    chain.hasher.dispose();
    for (const p of chain.pending.values()) {
      this.release(p.bytes);
      p.chunks = [];
      p.bytes = 0;
    }
    chain.pending.clear();
    this.chains.delete(sessionId);
  }

  reserve(bytes: number): boolean {
    if (this.heldBytes + bytes > this.budgetBytes) return false;
    this.heldBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    this.heldBytes -= bytes;
    if (bytes > 0 && this.waiters.length > 0) {
      const waiting = this.waiters;
      this.waiters = [];
      for (const wake of waiting) wake();
    }
  }

  /** Resolves when some memory was released, or after `ms`. */
  waitForRelease(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get held(): number {
    return this.heldBytes;
  }
}

interface Pending {
  chunks: Buffer[];
  bytes: number;
  /** The part finished streaming and was stored: its bytes may join the chain. */
  complete: boolean;
  /** Set while the part streams and the chain reached it: later chunks go straight to the hasher. */
  live: boolean;
}

class Chain {
  readonly pending = new Map<number, Pending>();
  /** A part was given up: the chain cannot pass it, so later parts are not held either. */
  broken = false;
  /** Dropped: its taps neither hash nor save states any more. */
  dead = false;
  /** The part streaming straight into the hasher now, if any. */
  live: number | null = null;
  constructor(
    readonly hasher: ResumableSha256,
    /** The next part number the hasher expects. */
    public next: number,
  ) {}
}

/** What one part's upload sees of the chain: feed chunks, then report success or failure. */
export class PartTap {
  private readonly pending: Pending = { chunks: [], bytes: 0, complete: false, live: false };
  private holding = true;

  constructor(
    private readonly chains: HashChains,
    private readonly chain: Chain,
    readonly partNumber: number,
  ) {
    if (partNumber === chain.next && chain.live === null) {
      this.pending.live = true;
      chain.live = partNumber;
    } else if (partNumber < chain.next)
      this.holding = false; // a retry of a hashed part: nothing to add
    else chain.pending.set(partNumber, this.pending);
  }

  /**
   * Takes the next chunk of this part. Returns a promise when the part must wait for memory: the
   * caller pauses the upload until it resolves (backpressure), so the chain keeps its parts. A held
   * chunk is kept by reference, not copied: the caller must not change its bytes afterwards (socket
   * reads never are; each one gets its own memory).
   */
  write(chunk: Buffer): void | Promise<void> {
    if (this.chain.dead) return;
    if (this.pending.live) return this.chain.hasher.update(chunk);
    if (!this.holding) return;
    if (this.chain.broken) return this.giveUp();
    if (this.chains.reserve(chunk.length)) return this.hold(chunk);
    return this.waitAndHold(chunk);
  }

  private async waitAndHold(chunk: Buffer): Promise<void> {
    const deadline = Date.now() + this.chains.waitMs;
    while (Date.now() < deadline) {
      await this.chains.waitForRelease(deadline - Date.now());
      if (this.chain.dead) return;
      // The chain may have reached this part meanwhile: its bytes then go straight to the hasher.
      if (this.pending.live) return this.chain.hasher.update(chunk);
      if (this.chains.reserve(chunk.length)) return this.hold(chunk);
    }
    this.giveUp();
  }

  private hold(chunk: Buffer): void {
    this.pending.chunks.push(chunk);
    this.pending.bytes += chunk.length;
  }

  /** This part will not be in memory when the chain reaches it: completion reads it back. */
  private giveUp(): void {
    this.holding = false;
    this.chain.broken = true;
    this.chains.release(this.pending.bytes);
    if (this.chain.pending.get(this.partNumber) === this.pending) this.chain.pending.delete(this.partNumber);
    this.pending.chunks = [];
    this.pending.bytes = 0;
  }

  /**
   * The part is stored. Resolves to the hash states of every part the chain advanced over, so the
   * caller saves them (part number -> state after it). The chain itself advances at once (before this
   * returns); only the states are awaited. Rejects when the hasher failed: the caller drops the chain.
   */
  async succeed(): Promise<Map<number, Uint8Array>> {
    const saved = new Map<number, Promise<Uint8Array>>();
    if (this.chain.dead) return new Map();
    if (this.pending.live) {
      this.pending.live = false;
      this.chain.live = null;
      this.chain.next = this.partNumber + 1;
      saved.set(this.partNumber, this.chain.hasher.save());
    } else if (this.holding) {
      this.pending.complete = true;
    }
    // Advance over parts that were held and are complete; a part still streaming turns live.
    for (;;) {
      const p = this.chain.pending.get(this.chain.next);
      if (!p) break;
      for (const c of p.chunks) this.chain.hasher.update(c);
      this.chains.release(p.bytes);
      p.chunks = [];
      p.bytes = 0;
      this.chain.pending.delete(this.chain.next);
      if (!p.complete) {
        p.live = true;
        this.chain.live = this.chain.next;
        break;
      }
      saved.set(this.chain.next, this.chain.hasher.save());
      this.chain.next++;
    }
    return new Map(await Promise.all([...saved].map(async ([n, state]) => [n, await state] as const)));
  }

  /**
   * The part failed: its bytes must not enter the chain. Returns true when the hasher had already
   * consumed some of them: the chain is broken and the caller must drop it (completion then re-reads
   * from the last saved state).
   */
  fail(): boolean {
    // A dropped chain is gone already: nothing to report (true would drop the session's new chain).
    if (this.chain.dead) return false;
    if (this.pending.live) {
      this.pending.live = false;
      this.chain.live = null;
      return true;
    }
    this.chains.release(this.pending.bytes);
    if (this.chain.pending.get(this.partNumber) === this.pending) this.chain.pending.delete(this.partNumber);
    return false;
  }
}
