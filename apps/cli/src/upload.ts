import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiClient,
  ApiError,
  FileView,
  isTransient,
  PartView,
  UploadSession,
  VersionView,
} from './api-client';
import { formatBytes } from './format';
import { readRange, sha256Range } from './io';
import { CliError } from './output';
import { missingParts, PartPlan, planParts, receivedBytes } from './parts';
import { Progress, ProgressStream } from './progress';
import { withRetry } from './retry';
import { runAll, Semaphore } from './semaphore';
import { UploadStateStore } from './upload-state';
import { collectFiles, LocalFile } from './walk';

export const MiB = 1024 * 1024;

export interface UploadParams {
  source: string;
  model: string;
  version: string;
  /** Requests carrying file bytes at once (parts or small files). */
  parallel: number;
  /** Files smaller than this go in one streaming PUT; the others through a resumable session. */
  smallFileLimit: number;
  /** Whole-file sha256 sent when opening a session only up to this size (hashing reads the file once more). */
  wholeFileHashLimit: number;
  /** sha256 of each part sent with it (the part is read twice; the second read usually hits the page cache). */
  partChecksums: boolean;
  retries: number;
  retryBaseDelayMs: number;
  pollIntervalMs: number;
  /** Wait for READY/FAILED after finalizing. */
  wait: boolean;
}

export const DEFAULT_PARAMS: Omit<UploadParams, 'source' | 'model' | 'version'> = {
  parallel: 4,
  smallFileLimit: 64 * MiB,
  wholeFileHashLimit: 512 * MiB,
  partChecksums: true,
  retries: 5,
  retryBaseDelayMs: 500,
  pollIntervalMs: 1000,
  wait: true,
};

export interface UploadStats {
  filesTotal: number;
  /** Already on the server with the same size. */
  filesSkipped: number;
  filesUploaded: number;
  /** Parts sent in this run (retries not counted twice). */
  partsSent: number;
  /** Parts the server already had from an earlier, interrupted run. */
  partsResumed: number;
  /** Bytes of file content sent in this run. */
  bytesSent: number;
  sessionsResumed: number;
  sessionsCreated: number;
  seconds: number;
}

export interface UploadResult {
  version: VersionView;
  stats: UploadStats;
}

export interface UploadDeps {
  client: ApiClient;
  state: UploadStateStore;
  progressOut: ProgressStream;
  tty: boolean;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

/** After the retries: the state is saved, the next run picks up from there. */
export class UploadInterrupted extends CliError {
  constructor(cause: string) {
    super(`${cause}\nthe upload stopped; run the same command again to resume`);
  }
}

class SessionGone extends Error {}

/** What a run is doing, for the Ctrl-C handler. */
export type UploadPhase = 'preparing' | 'uploading' | 'verifying' | 'done';

/**
 * `troupe models upload`: creates the version when missing, uploads what the server lacks (skipping
 * files it has, resuming sessions it keeps), finalizes and waits for the verdict.
 */
export class UploadRun {
  phase: UploadPhase = 'preparing';
  private progress?: Progress;
  private readonly stats: UploadStats = {
    filesTotal: 0,
    filesSkipped: 0,
    filesUploaded: 0,
    partsSent: 0,
    partsResumed: 0,
    bytesSent: 0,
    sessionsResumed: 0,
    sessionsCreated: 0,
    seconds: 0,
  };
  private readonly semaphore: Semaphore;

  constructor(
    private readonly p: UploadParams,
    private readonly d: UploadDeps,
  ) {
    this.semaphore = new Semaphore(Math.max(1, p.parallel));
  }

  /** Stops drawing (Ctrl-C): the caller prints and exits. */
  interrupt(): void {
    this.progress?.abandon();
    this.d.state.save();
  }

  private log(message: string): void {
    if (this.progress) this.progress.log(message);
    else this.d.progressOut.write(`${message}\n`);
  }

  async run(): Promise<UploadResult> {
    const started = Date.now();
    const { model, version } = this.p;
    const { files, skipped } = await collectFiles(this.p.source);
    if (skipped.length > 0) {
      const shown = skipped.slice(0, 3).join(', ') + (skipped.length > 3 ? ', …' : '');
      this.log(
        `not uploading ${skipped.length} hidden ${skipped.length === 1 ? 'entry' : 'entries'}: ${shown}`,
      );
    }
    this.stats.filesTotal = files.length;

    let v = await this.ensureVersion();
    if (v.state === 'READY') return { version: this.checkReady(v, files), stats: this.finishStats(started) };
    if (v.state === 'FAILED') {
      // A failed version still takes files: upload what differs (e.g. the missing config.json), verify again.
      this.log(
        `${model}/${version} FAILED verification (${v.failureReason ?? 'no reason given'}); ` +
          'uploading what differs and verifying again',
      );
    }
    if (v.state === 'UPLOADING' || v.state === 'FAILED') {
      await this.uploadFiles(v, files);
      this.d.state.remove();
      v = await this.finalize();
    } else {
      this.log(`${model}/${version} is already ${v.state}`);
    }
    this.stats.seconds = (Date.now() - started) / 1000;
    if (this.p.wait && v.state === 'VERIFYING') v = await this.waitForVerdict(v);
    this.phase = 'done';
    return { version: v, stats: this.finishStats(started) };
  }

  private finishStats(started: number): UploadStats {
    if (!this.stats.seconds) this.stats.seconds = (Date.now() - started) / 1000;
    return { ...this.stats };
  }

  private retry<T>(what: string, fn: () => Promise<T>, signal = this.d.signal): Promise<T> {
    return withRetry(fn, {
      retries: this.p.retries,
      baseDelayMs: this.p.retryBaseDelayMs,
      signal,
      onRetry: (err, attempt, delay) =>
        this.log(
          `${what}: ${describe(err)}; retry ${attempt}/${this.p.retries} in ${(delay / 1000).toFixed(1)}s`,
        ),
    });
  }

  private async ensureVersion(): Promise<VersionView> {
    const { client } = this.d;
    const { model, version } = this.p;
    try {
      return await this.retry('reading the version', () => client.getVersion(model, version));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    try {
      const created = await this.retry('creating the version', () => client.createVersion(model, version));
      this.log(`created version ${model}/${version}`);
      return { ...created, files: created.files ?? [] };
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return client.getVersion(model, version);
      if (err instanceof ApiError && err.status === 404) {
        throw new CliError(`${err.describe()}\nhint: create the model first: troupe models create ${model}`);
      }
      throw err;
    }
  }

  private checkReady(v: VersionView, files: LocalFile[]): VersionView {
    const remote = new Map(v.files.map((f) => [f.path, f]));
    const differ = files.filter((f) => remote.get(f.relPath)?.size !== f.size).map((f) => f.relPath);
    if (differ.length > 0) {
      throw new CliError(
        `${this.p.model}/${this.p.version} is READY (immutable) and lacks or differs in: ${differ.slice(0, 5).join(', ')}` +
          `${differ.length > 5 ? ', …' : ''}; upload to a new version`,
      );
    }
    this.log(`${this.p.model}/${this.p.version} is already READY with these files`);
    this.stats.filesSkipped = files.length;
    return v;
  }

  // --- files ---

  private async uploadFiles(v: VersionView, files: LocalFile[]): Promise<void> {
    const remote = new Map((v.files ?? []).map((f) => [f.path, f]));
    const todo = files.filter((f) => remote.get(f.relPath)?.size !== f.size);
    const done = files.filter((f) => !todo.includes(f));
    this.stats.filesSkipped = done.length;
    const wanted = new Set(todo.map((f) => f.relPath));
    for (const [rel] of this.d.state.entries()) if (!wanted.has(rel)) this.d.state.delete(rel);
    if (done.length > 0) this.log(`${done.length} of ${files.length} files already uploaded`);

    const total = files.reduce((s, f) => s + f.size, 0);
    this.progress = new Progress({
      out: this.d.progressOut,
      tty: this.d.tty,
      totalBytes: total,
      initialBytes: done.reduce((s, f) => s + f.size, 0),
      filesTotal: files.length,
      filesDone: done.length,
    });
    this.phase = 'uploading';
    this.progress.start();
    try {
      // A pool of file workers; the semaphore bounds the requests carrying bytes, first come first
      // served, so the parts of the first large file go before the next file's.
      const queue = [...todo];
      const workers = Array.from(
        { length: Math.min(this.p.parallel, queue.length) },
        () => async (signal: AbortSignal) => {
          for (let f = queue.shift(); f; f = queue.shift()) {
            signal.throwIfAborted();
            if (f.size < this.p.smallFileLimit) await this.uploadSmall(f, signal);
            else await this.uploadLarge(f, signal);
          }
        },
      );
      await runAll(workers, this.d.signal);
      this.progress.stop();
    } catch (err) {
      this.progress.abandon();
      // Transient errors that outlived their retries: the state is saved, a new run resumes.
      if (isTransient(err)) throw new UploadInterrupted(describe(err));
      throw err;
    } finally {
      this.progress = undefined;
    }
  }

  private async uploadSmall(f: LocalFile, signal: AbortSignal): Promise<void> {
    const fp = this.progress!.file(f.relPath, f.size);
    const sha256 = await sha256Range(f.absPath, 0, f.size, signal);
    const release = await this.semaphore.acquire(signal);
    let result: FileView;
    try {
      result = await this.retry(
        f.relPath,
        async () => {
          let sent = 0;
          const body = readRange(f.absPath, 0, f.size, (n) => {
            sent += n;
            fp.advance(n);
          });
          try {
            return await this.d.client.putFile(this.p.model, this.p.version, f.relPath, body, f.size, {
              sha256,
              signal,
            });
          } catch (err) {
            fp.advance(-sent);
            body.destroy();
            throw err;
          }
        },
        signal,
      );
    } finally {
      release();
    }
    this.checkFile(f, result, sha256);
    this.stats.bytesSent += f.size;
    this.stats.filesUploaded++;
    fp.finish();
    this.log(`uploaded ${f.relPath} (${formatBytes(f.size)})`);
  }

  private checkFile(f: LocalFile, result: FileView, sha256: string | undefined): void {
    if (result.size !== f.size) {
      throw new CliError(`the server stored ${result.size} bytes for ${f.relPath}, expected ${f.size}`);
    }
    if (sha256 && result.sha256 && result.sha256 !== sha256) {
      throw new CliError(`the server's sha256 for ${f.relPath} is ${result.sha256}, expected ${sha256}`);
    }
  }

  /** Resumes the saved session when the server still has it, else opens a new one. */
  private async openSession(
    f: LocalFile,
    signal: AbortSignal,
    fresh: boolean,
  ): Promise<{ session: UploadSession; received: PartView[]; sha256?: string }> {
    const { client, state } = this.d;
    const saved = state.get(f.relPath);
    if (saved && !fresh) {
      if (saved.size === f.size && saved.mtimeMs === f.mtimeMs && saved.path === f.absPath) {
        try {
          const up = await this.retry(
            `${f.relPath}: session`,
            () => client.getUpload(saved.uploadId),
            signal,
          );
          if (up.state === 'ACTIVE' && up.size === f.size && up.path === f.relPath) {
            this.stats.sessionsResumed++;
            return { session: up, received: up.parts };
          }
          this.log(
            `${f.relPath}: the earlier upload session is ${up.state.toLowerCase()}; starting a new one`,
          );
        } catch (err) {
          if (!isGoneStatus(err)) throw err;
          this.log(`${f.relPath}: the earlier upload session expired or was aborted; starting a new one`);
        }
      } else {
        this.log(`${f.relPath} changed since the interrupted upload; starting it over`);
        await client.abortUpload(saved.uploadId).catch(() => undefined);
      }
      state.delete(f.relPath);
    }
    const sha256 =
      f.size <= this.p.wholeFileHashLimit ? await sha256Range(f.absPath, 0, f.size, signal) : undefined;
    const session = await this.retry(
      `${f.relPath}: opening a session`,
      () => client.createUpload(this.p.model, this.p.version, { path: f.relPath, size: f.size, sha256 }),
      signal,
    );
    this.stats.sessionsCreated++;
    state.set(f.relPath, { path: f.absPath, size: f.size, mtimeMs: f.mtimeMs, uploadId: session.uploadId });
    return { session, received: [], sha256 };
  }

  private async uploadLarge(f: LocalFile, signal: AbortSignal): Promise<void> {
    const fp = this.progress!.file(f.relPath, f.size);
    let opened = await this.openSession(f, signal, false);
    let plan = planParts(f.size, opened.session.partSize, opened.session.partCount);
    fp.already(receivedBytes(plan, opened.received));
    const missing = missingParts(plan, opened.received);
    this.stats.partsResumed += plan.length - missing.length;
    try {
      await this.sendParts(f, opened.session, missing, fp, signal);
    } catch (err) {
      if (!(err instanceof SessionGone)) throw err;
      this.log(`${f.relPath}: the upload session expired or was aborted; starting a new one`);
      fp.reset();
      opened = await this.openSession(f, signal, true);
      plan = planParts(f.size, opened.session.partSize, opened.session.partCount);
      await this.sendParts(f, opened.session, plan, fp, signal).catch((e: unknown) => {
        throw e instanceof SessionGone
          ? new CliError(`${f.relPath}: the server dropped the new upload session too`)
          : e;
      });
    }

    const uploadId = opened.session.uploadId;
    let result: FileView | undefined;
    for (let round = 0; !result; round++) {
      try {
        result = await this.retry(
          `${f.relPath}: completing`,
          () => this.d.client.completeUpload(uploadId),
          signal,
        );
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409 || round > 0) throw err;
        // The server says something is missing (or it completed already, and the answer was lost).
        const up = await this.retry(`${f.relPath}: session`, () => this.d.client.getUpload(uploadId), signal);
        if (up.state === 'COMPLETED') {
          const v = await this.d.client.getVersion(this.p.model, this.p.version);
          result = v.files.find((x) => x.path === f.relPath);
          if (!result) throw err;
        } else if (up.state === 'ACTIVE') {
          await this.sendParts(f, opened.session, missingParts(plan, up.parts), fp, signal);
        } else throw err;
      }
    }
    this.checkFile(f, result, opened.sha256);
    this.d.state.delete(f.relPath);
    this.stats.filesUploaded++;
    fp.finish();
    this.log(`uploaded ${f.relPath} (${formatBytes(f.size)})`);
  }

  private async sendParts(
    f: LocalFile,
    session: UploadSession,
    parts: PartPlan[],
    fp: { advance(n: number): void },
    parent: AbortSignal,
  ): Promise<void> {
    const tasks = parts.map((part) => async (signal: AbortSignal) => {
      const release = await this.semaphore.acquire(signal);
      try {
        const sha256 = this.p.partChecksums
          ? await sha256Range(f.absPath, part.start, part.size, signal)
          : undefined;
        const label = `${f.relPath} part ${part.partNumber}/${session.partCount}`;
        const result = await this.retry(
          label,
          async () => {
            let sent = 0;
            const body = readRange(f.absPath, part.start, part.size, (n) => {
              sent += n;
              fp.advance(n);
            });
            try {
              return await this.d.client.putPart(session.uploadId, part.partNumber, body, part.size, {
                sha256,
                signal,
              });
            } catch (err) {
              fp.advance(-sent);
              body.destroy();
              if (isGoneStatus(err)) throw new SessionGone((err as Error).message);
              throw err;
            }
          },
          signal,
        );
        if (result.size !== part.size)
          throw new CliError(`${label}: the server stored ${result.size} bytes, expected ${part.size}`);
        if (sha256 && result.sha256 && result.sha256 !== sha256) {
          throw new CliError(`${label}: the server's sha256 ${result.sha256} differs from ours ${sha256}`);
        }
        this.stats.partsSent++;
        this.stats.bytesSent += part.size;
      } finally {
        release();
      }
    });
    await runAll(tasks, parent);
  }

  // --- finalize and wait ---

  private async finalize(): Promise<VersionView> {
    const { client } = this.d;
    const { model, version } = this.p;
    try {
      const v = await this.retry('finalizing', () => client.finalizeVersion(model, version));
      this.log(`finalized ${model}/${version}: verifying on the server`);
      return { ...v, files: v.files ?? [] };
    } catch (err) {
      // Finalized already (a retried request whose answer was lost, or a concurrent run).
      if (err instanceof ApiError && err.status === 409) {
        const v = await client.getVersion(model, version);
        if (v.state === 'VERIFYING' || v.state === 'READY') return v;
      }
      throw err;
    }
  }

  private async waitForVerdict(v: VersionView): Promise<VersionView> {
    this.phase = 'verifying';
    let current = v;
    let lastNote = Date.now();
    while (current.state === 'VERIFYING') {
      await sleep(this.p.pollIntervalMs, undefined, { signal: this.d.signal });
      current = await this.retry('reading the version', () =>
        this.d.client.getVersion(this.p.model, this.p.version),
      );
      if (Date.now() - lastNote > 15_000 && current.state === 'VERIFYING') {
        this.log('still verifying…');
        lastNote = Date.now();
      }
    }
    if (current.state === 'UPLOADING') {
      throw new CliError(
        `${this.p.model}/${this.p.version} went back to UPLOADING instead of being verified`,
      );
    }
    return current;
  }
}

function isGoneStatus(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 409 || err.status === 410);
}

function describe(err: unknown): string {
  return err instanceof ApiError ? err.describe() : (err as Error).message;
}
