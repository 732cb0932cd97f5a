// Capacity model of one engine (vLLM's or SGLang's scheduler, alike here): at most `maxNumSeqs` sequences run (prefill, then one token every
// tpot), the others wait in FIFO order. One timer serves every sequence: running sequences sit in a
// min-heap keyed by the time of their next event, and each timer fire handles every sequence due.

import { performance } from 'node:perf_hooks';
import { Histogram, LATENCY_BUCKETS, TPOT_BUCKETS, TTFT_BUCKETS } from './metrics';
import type { PrefixCache } from './prefix-cache';

/** Histogram buckets (seconds) of the engine's collectors; vLLM's by default. */
export interface SchedulerBuckets {
  ttft: readonly number[];
  tpot: readonly number[];
  e2e: readonly number[];
  queue: readonly number[];
}

const VLLM_BUCKETS: SchedulerBuckets = {
  ttft: TTFT_BUCKETS,
  tpot: TPOT_BUCKETS,
  e2e: LATENCY_BUCKETS,
  queue: LATENCY_BUCKETS,
};

/** Why a sequence left the engine. `error` = ended by the server itself (e.g. a cut stream). */
export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

export interface SequenceHooks {
  /**
   * Token number `index` (from 0) was generated. Returns the finish reason when it is the last token
   * (EOS drawn or max_tokens reached), else null.
   */
  onToken(index: number): 'stop' | 'length' | null;
  /** The sequence left the engine (finished normally, aborted, or ended by the server). */
  onFinish(reason: FinishReason): void;
}

type State = 'waiting' | 'running' | 'finished';

export class Sequence {
  state: State = 'waiting';
  /** True while paying prefill (before the first token). */
  prefilling = true;
  generated = 0;
  readonly arrivalAt = performance.now();
  firstTokenAt = 0;
  nextAt = 0;
  heapIndex = -1;
  /** Last scheduler tick that handled this sequence. */
  tick = 0;
  /** Prompt tokens found in the prefix cache when it started (not charged for prefill). */
  cachedTokens = 0;

  constructor(
    readonly promptTokens: number,
    /** 0 for prefill-only work (embeddings). */
    readonly maxTokens: number,
    readonly hooks: SequenceHooks,
    /** Chained hashes of the prompt's full KV blocks (prefix-cache lookups); none: never cached. */
    readonly blocks: readonly number[] = [],
  ) {}
}

export interface Timing {
  tpotMs: number;
  ttftMs: number;
  prefillMsPerToken: number;
  slowFactor: number;
}

export interface SchedulerCounters {
  promptTokens: number;
  generationTokens: number;
  finished: number;
  aborted: number;
  failed: number;
  success: Record<'stop' | 'length' | 'abort', number>;
  /** Prompt tokens looked up in the prefix cache, and those found (vLLM's prefix_cache_queries/hits). */
  prefixQueries: number;
  prefixHits: number;
}

/** Timer fires handle every sequence due within this many ms (groups nearby deadlines). */
const SLACK_MS = 1;

export class Scheduler {
  private readonly waiting = new Set<Sequence>();
  private readonly heap: Sequence[] = [];
  private kvTokens = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private timerAt = Infinity;
  private closed = false;
  private ticks = 0;

  readonly counters: SchedulerCounters = {
    promptTokens: 0,
    generationTokens: 0,
    finished: 0,
    aborted: 0,
    failed: 0,
    success: { stop: 0, length: 0, abort: 0 },
    prefixQueries: 0,
    prefixHits: 0,
  };
  readonly ttft: Histogram;
  readonly tpot: Histogram;
  readonly e2e: Histogram;
  readonly queueTime: Histogram;

  constructor(
    private readonly maxNumSeqs: number,
    private readonly kvCacheTokens: number,
    private readonly timing: () => Timing,
    buckets: SchedulerBuckets = VLLM_BUCKETS,
    /** The engine's prefix cache; null when prefix caching is off. */
    private readonly prefixCache: PrefixCache | null = null,
  ) {
    this.ttft = new Histogram(buckets.ttft);
    this.tpot = new Histogram(buckets.tpot);
    this.e2e = new Histogram(buckets.e2e);
    this.queueTime = new Histogram(buckets.queue);
  }

  get running(): number {
    return this.heap.length;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** KV-cache tokens held by running sequences. */
  get kvTokensUsed(): number {
    return this.kvTokens;
  }

  get kvCacheUsage(): number {
    return Math.min(1, this.kvTokens / this.kvCacheTokens);
  }

  submit(seq: Sequence): void {
    if (this.closed) {
      this.finish(seq, 'abort');
      return;
    }
    this.waiting.add(seq);
    this.admit(performance.now());
    this.arm();
  }

  /** Removes a sequence wherever it is. `abort`: its client went away; `error`: the server ended it. */
  cancel(seq: Sequence, reason: 'abort' | 'error'): void {
    if (seq.state === 'finished') return;
    if (seq.state === 'waiting') this.waiting.delete(seq);
    else this.removeRunning(seq);
    this.finish(seq, reason);
    if (!this.closed) {
      this.admit(performance.now());
      this.arm();
    }
  }

  /** Aborts everything and stops the timer. */
  close(): void {
    this.closed = true;
    this.clearTimer();
    for (const seq of [...this.waiting, ...this.heap]) this.cancel(seq, 'abort');
  }

  // ---- internals ----

  private admit(now: number): void {
    const t = this.timing();
    for (const seq of this.waiting) {
      if (this.heap.length >= this.maxNumSeqs) return;
      // Like vLLM, a request only starts when its prompt fits in the KV cache (always when alone).
      if (this.heap.length > 0 && this.kvTokens + seq.promptTokens > this.kvCacheTokens) return;
      this.waiting.delete(seq);
      seq.state = 'running';
      this.kvTokens += seq.promptTokens;
      this.queueTime.observe((now - seq.arrivalAt) / 1000);
      const cache = this.prefixCache;
      if (cache) {
        // As vLLM, the last prompt token is always computed (its logits give the first output token).
        seq.cachedTokens = Math.max(
          0,
          Math.min(cache.match(seq.blocks) * cache.blockSize, seq.promptTokens - 1),
        );
        this.counters.prefixQueries += seq.promptTokens;
        this.counters.prefixHits += seq.cachedTokens;
      }
      const computed = seq.promptTokens - seq.cachedTokens;
      seq.nextAt = now + (t.ttftMs + t.prefillMsPerToken * computed) * t.slowFactor;
      this.push(seq);
    }
  }

  private arm(): void {
    if (this.closed || this.heap.length === 0) return;
    const at = this.heap[0].nextAt;
    if ((this.timer || this.immediate) && at >= this.timerAt) return;
    this.clearTimer();
    this.timerAt = at;
    const delay = at - performance.now();
    // setTimeout waits at least 1 ms: run what is already due on the next turn of the loop instead.
    if (delay <= SLACK_MS / 2) this.immediate = setImmediate(this.tick);
    else this.timer = setTimeout(this.tick, delay);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private readonly tick = (): void => {
    this.timer = null;
    this.immediate = null;
    this.timerAt = Infinity;
    const now = performance.now();
    const t = this.timing();
    const period = t.tpotMs * t.slowFactor;
    const tick = ++this.ticks;
    // At most one event per sequence per tick, so that tiny tpots still let I/O run between tokens.
    while (this.heap.length > 0 && this.heap[0].nextAt <= now + SLACK_MS && this.heap[0].tick !== tick) {
      const seq = this.heap[0];
      seq.tick = tick;
      this.step(seq, now, period);
    }
    this.admit(now);
    this.arm();
  };

  /** Handles the due event of the sequence at the top of the heap. */
  private step(seq: Sequence, now: number, period: number): void {
    if (seq.prefilling) {
      seq.prefilling = false;
      seq.firstTokenAt = now;
      this.counters.promptTokens += seq.promptTokens;
      this.prefixCache?.insert(seq.blocks);
      if (seq.maxTokens === 0) {
        this.removeRunning(seq);
        this.finish(seq, 'stop');
        return;
      }
      this.ttft.observe((now - seq.arrivalAt) / 1000);
    }
    const index = seq.generated++;
    this.kvTokens++;
    this.counters.generationTokens++;
    let reason = seq.hooks.onToken(index);
    if (seq.state !== 'running') return; // the hook ended it (e.g. cut stream)
    if (reason === null && seq.generated >= seq.maxTokens) reason = 'length';
    if (reason !== null) {
      this.removeRunning(seq);
      this.finish(seq, reason);
      return;
    }
    // Drift-free cadence, but never more than one token of catch-up after a late timer.
    seq.nextAt = Math.max(seq.nextAt + period, now);
    this.siftDown(seq.heapIndex);
  }

  private finish(seq: Sequence, reason: FinishReason): void {
    seq.state = 'finished';
    const now = performance.now();
    const c = this.counters;
    c.finished++;
    if (reason === 'abort') c.aborted++;
    if (reason === 'error') c.failed++;
    else c.success[reason]++;
    if (reason === 'stop' || reason === 'length') {
      this.e2e.observe((now - seq.arrivalAt) / 1000);
      if (seq.generated > 1) this.tpot.observe((now - seq.firstTokenAt) / 1000 / (seq.generated - 1));
    }
    seq.hooks.onFinish(reason);
  }

  private removeRunning(seq: Sequence): void {
    this.kvTokens -= seq.promptTokens + seq.generated;
    const i = seq.heapIndex;
    const last = this.heap.pop() as Sequence;
    seq.heapIndex = -1;
    if (last !== seq) {
      this.heap[i] = last;
      last.heapIndex = i;
      this.siftDown(i);
      this.siftUp(last.heapIndex);
    }
  }

  private push(seq: Sequence): void {
    seq.heapIndex = this.heap.length;
    this.heap.push(seq);
    this.siftUp(seq.heapIndex);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const seq = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].nextAt <= seq.nextAt) break;
      h[i] = h[p];
      h[i].heapIndex = i;
      i = p;
    }
    h[i] = seq;
    seq.heapIndex = i;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const seq = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r].nextAt < h[l].nextAt ? r : l;
      if (h[c].nextAt >= seq.nextAt) break;
      h[i] = h[c];
      h[i].heapIndex = i;
      i = c;
    }
    h[i] = seq;
    seq.heapIndex = i;
  }
}
