import { describe, expect, it } from 'vitest';
import { fileLine, overallLine, plainLine, Progress, ProgressSnapshot, ttyLines } from './progress';

const MiB = 1024 * 1024;

const snap: ProgressSnapshot = {
  totalBytes: 80 * MiB,
  doneBytes: 40 * MiB,
  rate: 10e6,
  filesTotal: 7,
  filesDone: 3,
  active: [
    { name: 'model-00001-of-00002.safetensors', size: 70 * MiB, done: 35 * MiB },
    { name: 'tokenizer.json', size: 2 * MiB, done: 0 },
  ],
};

describe('progress rendering', () => {
  it('overall line: bar, bytes, rate, ETA, files', () => {
    const line = overallLine(snap, 120);
    expect(line).toMatch(
      /^total {2}\[#+\.+\] {2}50% {2}40\.0 MiB \/ 80\.0 MiB {2}10\.0 MB\/s {2}ETA 0:04 {2}3\/7 files$/,
    );
  });

  it('file lines keep the end of long names and never reach the terminal width', () => {
    for (const columns of [40, 80, 200]) {
      const lines = ttyLines(snap, columns);
      expect(lines).toHaveLength(3);
      for (const l of lines) expect(l.length).toBeLessThan(columns);
    }
    expect(fileLine(snap.active[0], 100)).toContain('50%  35.0 MiB / 70.0 MiB');
    expect(fileLine({ name: 'x'.repeat(100) + '.safetensors', size: 1, done: 1 }, 100)).toMatch(
      / {2}…x+\.safetensors {2}/,
    );
  });

  it('shows a few files then a count', () => {
    const many = {
      ...snap,
      active: Array.from({ length: 12 }, (_, i) => ({ name: `f${i}`, size: 1, done: 0 })),
    };
    const lines = ttyLines(many, 100);
    expect(lines).toHaveLength(10);
    expect(lines[8]).toContain('and 4 more');
  });

  it('plain line for pipes', () => {
    expect(plainLine(snap)).toBe('uploaded 40.0 MiB / 80.0 MiB (50%), 10.0 MB/s, ETA 0:04, 3/7 files');
  });
});

describe('Progress', () => {
  function sink(tty: boolean) {
    const chunks: string[] = [];
    return { chunks, out: { write: (s: string) => chunks.push(s) > 0, isTTY: tty, columns: 100 } };
  }

  it('counts bytes, retries (negative), resumed bytes and files; rate only from bytes sent', () => {
    let now = 0;
    const { out } = sink(false);
    const p = new Progress({
      out,
      tty: false,
      totalBytes: 1000,
      initialBytes: 100,
      filesTotal: 3,
      filesDone: 1,
      now: () => now,
    });
    const f = p.file('a', 900);
    f.already(300);
    f.advance(200);
    f.advance(-50);
    now = 2000;
    const s = p.snapshot();
    expect(s.doneBytes).toBe(550);
    expect(s.rate).toBeCloseTo(75);
    expect(s.active).toEqual([{ name: 'a', size: 900, done: 450 }]);
    f.reset(); // a new session: the file starts over
    expect(p.snapshot().doneBytes).toBe(100);
    f.finish();
    expect(p.snapshot()).toMatchObject({ filesDone: 2, active: [] });
  });

  it('on a TTY redraws in place with ANSI escapes and prints messages above the bars', () => {
    const { chunks, out } = sink(true);
    const p = new Progress({ out, tty: true, totalBytes: 10, filesTotal: 1 });
    p.start();
    p.file('a', 10).advance(5);
    p.log('hello');
    p.stop();
    const text = chunks.join('');
    expect(text).toContain('\x1b[?25l');
    expect(text).toContain('\x1b[2F\x1b[J'); // back over the file line and the total line
    expect(text).toContain('hello\n');
    expect(text.endsWith('\x1b[?25h')).toBe(true);
  });

  it('off a TTY writes plain lines only', () => {
    const { chunks, out } = sink(false);
    const p = new Progress({ out, tty: false, totalBytes: 10, filesTotal: 1 });
    p.start();
    p.log('hello');
    p.stop();
    expect(chunks.join('')).not.toContain('\x1b');
    expect(chunks.at(-1)).toMatch(/^uploaded 0 B \/ 10 B/);
  });
});
