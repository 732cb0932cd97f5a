import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { verification } from '@troupe/core';

const ROOT = path.resolve(__dirname, '../..');
const MiB = 1024 * 1024;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
  stderr(): string;
}

/** The CLI as users run it, in a child process: `node tsx apps/cli/src/main.ts …`. */
export function startCli(args: string[], env: Record<string, string>): RunningCli {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TROUPE_')));
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'apps/cli/src/main.ts', ...args],
    {
      cwd: ROOT,
      env: { ...clean, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return startCli(args, env).done;
}

/** Polls until `check` holds (or throws after `timeoutMs`). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Writes files of random bytes (in 4 MiB chunks) and returns each one's sha256 by relative path. */
export function writeCheckpoint(
  dir: string,
  files: { path: string; size: number; content?: string }[],
): Map<string, string> {
  const sums = new Map<string, string>();
  for (const f of files) {
    const file = path.join(dir, f.path);
    mkdirSync(path.dirname(file), { recursive: true });
    const hash = createHash('sha256');
    const fd = openSync(file, 'w');
    try {
      if (f.content !== undefined) {
        writeSync(fd, f.content);
        hash.update(f.content);
      } else {
        for (let left = f.size; left > 0;) {
          const chunk = randomBytes(Math.min(left, 4 * 1024 * 1024));
          writeSync(fd, chunk);
          hash.update(chunk);
          left -= chunk.length;
        }
      }
    } finally {
      closeSync(fd);
    }
    sums.set(f.path, hash.digest('hex'));
  }
  return sums;
}

export interface Checkpoint {
  dir: string;
  sums: Map<string, string>;
  sizes: Map<string, number>;
}

/** A tiny-Llama-shaped checkpoint whose first shard is ~70 MiB of random weights; ~85 MiB in all, and an empty file. */
export function writeBigCheckpoint(dir: string): Checkpoint {
  const opts = {
    layers: 3,
    hidden: 1024,
    heads: 8,
    kvHeads: 4,
    intermediate: 2048,
    vocab: 8000,
    dtype: 'BF16' as const,
  };
  const tensors = verification.tinyLlamaTensors(opts);
  const shards = [tensors.slice(0, -2), tensors.slice(-2)]; // [embeddings + layers], [norm + lm_head]
  const sums = new Map<string, string>();
  const sizes = new Map<string, number>();
  const put = (name: string, data: Buffer) => {
    writeFileSync(path.join(dir, name), data);
    sums.set(name, createHash('sha256').update(data).digest('hex'));
    sizes.set(name, data.length);
  };
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  shards.forEach((shard, i) => {
    const name = verification.shardName(i + 1, shards.length);
    const { header, dataBytes } = verification.encodeSafetensorsHeader(shard, { format: 'pt' });
    const hash = createHash('sha256').update(header);
    const fd = openSync(path.join(dir, name), 'w');
    writeSync(fd, header);
    for (let left = dataBytes; left > 0;) {
      const chunk = randomBytes(Math.min(left, 4 * MiB));
      writeSync(fd, chunk);
      hash.update(chunk);
      left -= chunk.length;
    }
    closeSync(fd);
    sums.set(name, hash.digest('hex'));
    sizes.set(name, header.length + dataBytes);
    for (const t of shard) weightMap[t.name] = name;
    totalSize += dataBytes;
  });
  put('config.json', Buffer.from(JSON.stringify(verification.tinyLlamaConfig(opts), null, 2)));
  put('tokenizer.json', Buffer.from(verification.tinyTokenizerJson()));
  put('added_tokens.json', Buffer.alloc(0));
  put(
    verification.INDEX_FILE,
    Buffer.from(JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap })),
  );
  return { dir, sums, sizes };
}
