import { bar, formatBytes, formatEta, formatRate, percent, truncateStart } from './format';

/** What the progress display shows at one instant. */
export interface ProgressSnapshot {
  totalBytes: number;
  doneBytes: number;
  /** Bytes per second over the last few seconds. */
  rate: number;
  filesTotal: number;
  filesDone: number;
  active: { name: string; size: number; done: number }[];
}

const MAX_FILE_LINES = 8;

/** The overall line: bar, bytes, rate, ETA, files. */
export function overallLine(s: ProgressSnapshot, columns: number): string {
  const stats =
    `${percent(s.doneBytes, s.totalBytes).padStart(4)}  ${formatBytes(s.doneBytes)} / ${formatBytes(s.totalBytes)}` +
    `  ${formatRate(s.rate)}  ETA ${formatEta(s.totalBytes - s.doneBytes, s.rate)}  ${s.filesDone}/${s.filesTotal} files`;
  const barWidth = Math.min(32, columns - stats.length - 9);
  const line =
    barWidth >= 6 ? `total  ${bar(s.doneBytes / (s.totalBytes || 1), barWidth)} ${stats}` : `total ${stats}`;
  return fit(line, columns);
}

/** One line per file being uploaded: name (its end kept), bar, percent, bytes. */
export function fileLine(f: { name: string; size: number; done: number }, columns: number): string {
  const right = `${percent(f.done, f.size).padStart(4)}  ${formatBytes(f.done)} / ${formatBytes(f.size)}`;
  const barWidth = 22;
  const nameWidth = Math.max(8, Math.min(48, columns - right.length - barWidth - 6));
  const name = truncateStart(f.name, nameWidth).padEnd(nameWidth);
  return fit(`  ${name}  ${bar(f.done / (f.size || 1), barWidth)} ${right}`, columns);
}

/** The TTY block: one line per active file (at most a few), then the overall line. */
export function ttyLines(s: ProgressSnapshot, columns: number): string[] {
  const lines = s.active.slice(0, MAX_FILE_LINES).map((f) => fileLine(f, columns));
  if (s.active.length > MAX_FILE_LINES)
    lines.push(fit(`  … and ${s.active.length - MAX_FILE_LINES} more`, columns));
  lines.push(overallLine(s, columns));
  return lines;
}

/** One line for logs and pipes. */
export function plainLine(s: ProgressSnapshot): string {
  return (
    `uploaded ${formatBytes(s.doneBytes)} / ${formatBytes(s.totalBytes)} (${percent(s.doneBytes, s.totalBytes)}), ` +
    `${formatRate(s.rate)}, ETA ${formatEta(s.totalBytes - s.doneBytes, s.rate)}, ${s.filesDone}/${s.filesTotal} files`
  );
}

/** Lines must not wrap, or moving the cursor up would miss them. */
function fit(line: string, columns: number): string {
  return line.length >= columns ? line.slice(0, Math.max(1, columns - 1)) : line;
}

export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  out: ProgressStream;
  /** Redraw in place with ANSI escapes (else a plain line every `plainIntervalMs`). */
  tty: boolean;
  totalBytes: number;
  /** Bytes already on the server when the run starts (skipped files, parts received earlier). */
  initialBytes?: number;
  filesTotal: number;
  filesDone?: number;
  now?: () => number;
  /** Minimum time between TTY redraws (100: at most 10 per second). */
  ttyIntervalMs?: number;
  plainIntervalMs?: number;
}

export class FileProgress {
  done = 0;
  constructor(
    private readonly owner: Progress,
    readonly name: string,
    readonly size: number,
  ) {}

  /** Bytes went out (negative: an attempt failed and its bytes will be sent again). */
  advance(bytes: number): void {
    this.done += bytes;
    this.owner.advance(bytes);
  }

  /** Bytes the server already has (resumed parts): counted as done, not in the rate. */
  already(bytes: number): void {
    this.done += bytes;
    this.owner.already(bytes);
  }

  /** Starts this file over (its session had to be replaced). */
  reset(): void {
    this.owner.already(-this.done);
    this.done = 0;
  }

  finish(): void {
    this.owner.finish(this);
  }
}

/**
 * Upload progress on stderr. On a terminal: one line per file being uploaded and an overall line
 * (bytes, rate, ETA), redrawn in place at most ~10 times per second. Elsewhere: a plain line every
 * few seconds.
 */
export class Progress {
  private readonly active = new Set<FileProgress>();
  private doneBytes: number;
  private sentBytes = 0;
  private filesDone: number;
  private readonly samples: { t: number; sent: number }[] = [];
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private drawnLines = 0;
  private lastPlain = 0;
  private stopped = false;

  constructor(private readonly opts: ProgressOptions) {
    this.doneBytes = opts.initialBytes ?? 0;
    this.filesDone = opts.filesDone ?? 0;
    this.now = opts.now ?? Date.now;
    this.samples.push({ t: this.now(), sent: 0 });
  }

  start(): void {
    const interval = this.opts.tty ? (this.opts.ttyIntervalMs ?? 100) : 1000;
    this.lastPlain = this.now();
    if (this.opts.tty) this.opts.out.write('\x1b[?25l');
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
    this.tick();
  }

  file(name: string, size: number): FileProgress {
    const f = new FileProgress(this, name, size);
    this.active.add(f);
    return f;
  }

  advance(bytes: number): void {
    this.doneBytes += bytes;
    this.sentBytes += bytes;
  }

  already(bytes: number): void {
    this.doneBytes += bytes;
  }

  finish(f: FileProgress): void {
    if (!this.active.delete(f)) return;
    this.filesDone++;
  }

  /** Counts a file that needed no upload. */
  skipFile(): void {
    this.filesDone++;
  }

  /** A message above the bars. */
  log(message: string): void {
    if (this.opts.tty && !this.stopped) {
      this.opts.out.write(`${this.clearBlock()}${message}\n`);
      this.drawnLines = 0;
      this.draw();
    } else {
      this.opts.out.write(`${message}\n`);
    }
  }

  snapshot(): ProgressSnapshot {
    return {
      totalBytes: this.opts.totalBytes,
      doneBytes: Math.min(this.doneBytes, this.opts.totalBytes),
      rate: this.rate(),
      filesTotal: this.opts.filesTotal,
      filesDone: this.filesDone,
      active: [...this.active].map((f) => ({ name: f.name, size: f.size, done: Math.max(0, f.done) })),
    };
  }

  /** Final state drawn once more; the cursor comes back. */
  stop(): void {
    if (this.stopped) return;
    if (this.timer) clearInterval(this.timer);
    if (this.opts.tty) {
      this.draw();
      this.opts.out.write('\x1b[?25h');
    } else {
      this.opts.out.write(`${plainLine(this.snapshot())}\n`);
    }
    this.stopped = true;
  }

  /** Removes the bars (e.g. before an error message) and gives the cursor back. */
  abandon(): void {
    if (this.stopped) return;
    if (this.timer) clearInterval(this.timer);
    if (this.opts.tty) this.opts.out.write(`${this.clearBlock()}\x1b[?25h`);
    this.drawnLines = 0;
    this.stopped = true;
  }

  private rate(): number {
    const t = this.now();
    const window = 5000;
    while (this.samples.length > 1 && t - this.samples[1].t >= window) this.samples.shift();
    const first = this.samples[0];
    const dt = (t - first.t) / 1000;
    return dt > 0.2 ? Math.max(0, (this.sentBytes - first.sent) / dt) : 0;
  }

  private tick(): void {
    if (this.stopped) return;
    const t = this.now();
    const last = this.samples[this.samples.length - 1];
    if (t - last.t >= 250) this.samples.push({ t, sent: this.sentBytes });
    if (this.opts.tty) this.draw();
    else if (t - this.lastPlain >= (this.opts.plainIntervalMs ?? 5000)) {
      this.lastPlain = t;
      this.opts.out.write(`${plainLine(this.snapshot())}\n`);
    }
  }

  private clearBlock(): string {
    return this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[J` : '\r\x1b[J';
  }

  private draw(): void {
    const columns = this.opts.out.columns || 80;
    const lines = ttyLines(this.snapshot(), columns);
    this.opts.out.write(this.clearBlock() + lines.map((l) => `${l}\n`).join(''));
    this.drawnLines = lines.length;
  }
}
