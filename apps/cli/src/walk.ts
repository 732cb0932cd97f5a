import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CliError } from './output';

export interface LocalFile {
  /** Absolute path on this machine. */
  absPath: string;
  /** Path in the version: relative to the uploaded directory, `/`-separated. */
  relPath: string;
  size: number;
  mtimeMs: number;
}

export interface Collected {
  files: LocalFile[];
  /** Hidden entries (names starting with "."), not uploaded. */
  skipped: string[];
}

/**
 * The files to upload from a file or a directory. Symbolic links are followed (Hugging Face cache
 * snapshots are links to blobs); hidden files and directories (".git", ".cache") are left out.
 */
export async function collectFiles(source: string): Promise<Collected> {
  const root = path.resolve(source);
  let st;
  try {
    st = await fs.stat(root);
  } catch (err) {
    throw new CliError(
      `cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (st.isFile()) {
    return {
      files: [{ absPath: root, relPath: path.basename(root), size: st.size, mtimeMs: st.mtimeMs }],
      skipped: [],
    };
  }
  if (!st.isDirectory()) throw new CliError(`${source} is neither a file nor a directory`);
  const files: LocalFile[] = [];
  const skipped: string[] = [];
  const visited = new Set<string>();
  async function walk(dir: string, rel: string[]): Promise<void> {
    const real = await fs.realpath(dir);
    if (visited.has(real)) return; // a link cycle
    visited.add(real);
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const relPath = [...rel, entry.name];
      if (entry.name.startsWith('.')) {
        skipped.push(relPath.join('/'));
        continue;
      }
      let s;
      try {
        s = await fs.stat(abs);
      } catch (err) {
        throw new CliError(
          `cannot read ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      if (s.isDirectory()) await walk(abs, relPath);
      else if (s.isFile())
        files.push({ absPath: abs, relPath: relPath.join('/'), size: s.size, mtimeMs: s.mtimeMs });
    }
  }
  await walk(root, []);
  if (files.length === 0) throw new CliError(`${source} holds no files to upload`);
  return { files, skipped };
}
