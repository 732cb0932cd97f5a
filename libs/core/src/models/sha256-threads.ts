import { Worker } from 'node:worker_threads';
import { ResumableSha256, Sha256Factory } from './whole-file-hash';

/**
 * Resumable SHA-256 (hash-wasm) on a few worker threads, so hashing uploads at network speed does not
 * hold the event loop. Each hasher lives on one worker (sessions are spread round-robin); messages to a
 * worker are handled in order, so `save()` after some `update()`s sees exactly those bytes.
 *
 * Bounded memory: bytes posted to a worker and not yet hashed are counted; past `highWaterBytes`,
 * `update()` returns a promise that resolves once the worker is back under a quarter of it (the upload
 * then pauses its socket). A worker that dies fails its hashers' pending and later calls (the upload
 * falls back to re-reading at completion); the next hasher gets a new worker.
 */
export class Sha256Threads implements Sha256Factory {
  private readonly slots: (Slot | undefined)[];
  private next = 0;
  private closed = false;

  constructor(
    threads: number,
    private readonly highWaterBytes = 16 * 1024 * 1024,
  ) {
    this.slots = new Array<Slot | undefined>(Math.max(1, threads)).fill(undefined);
  }

  start(fromState?: Uint8Array | null): Promise<ResumableSha256> {
    if (this.closed) return Promise.reject(new Error('sha256 threads are closed'));
    const i = this.next++ % this.slots.length;
    let slot = this.slots[i];
    if (!slot || slot.dead) slot = this.slots[i] = new Slot(this.highWaterBytes);
    return Promise.resolve(slot.open(fromState ?? null));
  }

  /** Bytes posted to workers and not hashed yet (for tests and metrics). */
  get queuedBytes(): number {
    return this.slots.reduce((sum, s) => sum + (s?.queued ?? 0), 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s?.terminate()));
  }
}

type Reply = { seq: number; state?: Uint8Array; hex?: string; error?: string } | { ack: number };

class Slot {
  readonly worker: Worker;
  dead = false;
  queued = 0;
  private seq = 0;
  private ids = 0;
  private readonly pending = new Map<number, { resolve: (v: Reply) => void; reject: (e: Error) => void }>();
  private drained: (() => void)[] = [];
  private failure?: Error;

  constructor(private readonly highWater: number) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { hashWasm: require.resolve('hash-wasm') },
    });
    this.worker.unref();
    this.worker.on('message', (m: Reply) => this.onMessage(m));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`sha256 worker exited with code ${code}`)));
  }

  open(state: Uint8Array | null): ResumableSha256 {
    const id = ++this.ids;
    this.post({ op: 'start', id, state });
    let disposed = false;
    const check = () => {
      if (this.failure) throw this.failure;
      if (disposed) throw new Error('sha256 hasher used after dispose');
    };
    return {
      update: (chunk) => {
        // A dead worker or a disposed hasher takes no bytes; the next save() or digestHex() says so.
        if (this.failure || disposed) return;
        const copy = new Uint8Array(chunk); // transferred: the caller keeps its buffer
        this.queued += copy.length;
        this.post({ op: 'update', id, chunk: copy }, [copy.buffer]);
        if (this.queued > this.highWater) return new Promise<void>((resolve) => this.drained.push(resolve));
      },
      save: async () => {
        check();
        return (await this.request({ op: 'save', id })).state!;
      },
      digestHex: async () => {
        check();
        return (await this.request({ op: 'digest', id })).hex!;
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        if (!this.dead) this.post({ op: 'drop', id });
      },
    };
  }

  async terminate(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    await this.worker.terminate();
  }

  private post(message: Record<string, unknown>, transfer?: ArrayBuffer[]): void {
    // Referenced only while it owes an answer or an ack: an idle pool does not keep the process alive.
    this.worker.ref();
    this.worker.postMessage(message, transfer);
  }

  private settle(): void {
    if (this.pending.size === 0 && this.queued === 0) this.worker.unref();
  }

  private request(message: Record<string, unknown>): Promise<{ state?: Uint8Array; hex?: string }> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: Reply) => void, reject });
      this.post({ ...message, seq });
    });
  }

  private onMessage(m: Reply): void {
    if ('ack' in m) {
      this.queued -= m.ack;
      if (this.queued <= this.highWater / 4) this.wake();
      this.settle();
      return;
    }
    const p = this.pending.get(m.seq);
    if (!p) return;
    this.pending.delete(m.seq);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m);
    this.settle();
  }

  private wake(): void {
    const waiting = this.drained;
    this.drained = [];
    for (const w of waiting) w();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.dead = true;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    this.queued = 0;
    this.wake();
  }
}

/**
 * The worker: one hash-wasm hasher per id. Messages are handled one after another (a promise chain),
 * so a `start` that waits for WebAssembly does not let a later `update` overtake it. An error in a
 * hasher is kept and reported by its next `save` or `digest`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createSHA256 } = require(workerData.hashWasm);
const hashers = new Map();
let queue = Promise.resolve();
async function handle(m) {
  if (m.op === 'start') {
    try {
      const h = await createSHA256();
      if (m.state) h.load(m.state); else h.init();
      hashers.set(m.id, { h });
    } catch (err) { hashers.set(m.id, { error: String(err && err.message || err) }); }
    return;
  }
  const e = hashers.get(m.id);
  if (m.op === 'update') {
    if (e && !e.error) { try { e.h.update(m.chunk); } catch (err) { e.error = String(err && err.message || err); } }
    parentPort.postMessage({ ack: m.chunk.length });
    return;
  }
  if (m.op === 'drop') { hashers.delete(m.id); return; }
  if (!e) return parentPort.postMessage({ seq: m.seq, error: 'unknown hasher ' + m.id });
  if (e.error) return parentPort.postMessage({ seq: m.seq, error: e.error });
  try {
    if (m.op === 'save') parentPort.postMessage({ seq: m.seq, state: e.h.save() });
    else if (m.op === 'digest') { parentPort.postMessage({ seq: m.seq, hex: e.h.digest('hex') }); hashers.delete(m.id); }
  } catch (err) { parentPort.postMessage({ seq: m.seq, error: String(err && err.message || err) }); }
}
parentPort.on('message', (m) => { queue = queue.then(() => handle(m)); });
`;
