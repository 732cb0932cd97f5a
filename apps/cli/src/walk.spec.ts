import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { readRange, sha256Range } from './io';
import { collectFiles } from './walk';

describe('collecting files', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'troupe-walk-'));
  const ckpt = path.join(root, 'ckpt');
  mkdirSync(path.join(ckpt, 'sub', 'deeper'), { recursive: true });
  mkdirSync(path.join(ckpt, '.cache'));
  writeFileSync(path.join(ckpt, 'config.json'), '{}');
  writeFileSync(path.join(ckpt, 'sub', 'deeper', 'b.bin'), 'bb');
  writeFileSync(path.join(ckpt, '.cache', 'x'), 'x');
  writeFileSync(path.join(root, 'blob'), 'blob!');
  symlinkSync(path.join(root, 'blob'), path.join(ckpt, 'linked.safetensors'));
  symlinkSync(ckpt, path.join(ckpt, 'sub', 'loop'));

  it('walks a directory: relative / paths, links followed, hidden entries and link cycles left out', async () => {
    const { files, skipped } = await collectFiles(ckpt);
    expect(files.map((f) => [f.relPath, f.size])).toEqual([
      ['config.json', 2],
      ['linked.safetensors', 5],
      ['sub/deeper/b.bin', 2],
    ]);
    expect(skipped).toEqual(['.cache']);
  });

  it('takes a single file by its name', async () => {
    const { files } = await collectFiles(path.join(ckpt, 'config.json'));
    expect(files).toMatchObject([{ relPath: 'config.json', size: 2 }]);
  });

  it('refuses missing paths and empty directories', async () => {
    await expect(collectFiles(path.join(root, 'nope'))).rejects.toThrow(/ENOENT/);
    mkdirSync(path.join(root, 'empty'));
    await expect(collectFiles(path.join(root, 'empty'))).rejects.toThrow(/no files/);
  });
});

describe('reading ranges', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'troupe-io-')), 'f');
  writeFileSync(file, '0123456789');

  it('streams exactly a range and hashes it', async () => {
    let counted = 0;
    expect(await text(readRange(file, 3, 4, (n) => (counted += n)))).toBe('3456');
    expect(counted).toBe(4);
    expect(await text(readRange(file, 0, 0))).toBe('');
    expect(await sha256Range(file, 3, 4)).toBe(createHash('sha256').update('3456').digest('hex'));
  });

  it('fails when the file is shorter than planned (it changed)', async () => {
    await expect(text(readRange(file, 8, 4))).rejects.toThrow(/changed during the upload/);
    await expect(sha256Range(file, 8, 4)).rejects.toThrow(/changed during the upload/);
  });
});
