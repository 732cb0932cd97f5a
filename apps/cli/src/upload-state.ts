import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from './config';

/** One large file's upload session, remembered so that the next run resumes it. */
export interface FileSessionState {
  /** Local absolute path. */
  path: string;
  size: number;
  mtimeMs: number;
  uploadId: string;
}

interface StateDocument {
  url: string;
  projectId?: string;
  model: string;
  version: string;
  /** By path in the version. */
  files: Record<string, FileSessionState>;
}

/** `<dir>/<model>-<version>.json`, with characters unsafe in file names replaced. */
export function stateFilePath(dir: string, model: string, version: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(dir, `${safe(model)}-${safe(version)}.json`);
}

/**
 * The resume state of one `troupe models upload` (one model version on one server). Every change is
 * written at once, synchronously and atomically, so an interrupted run (Ctrl-C, a crash) leaves a
 * state file describing every session it opened.
 */
export class UploadStateStore {
  private doc: StateDocument;

  constructor(
    readonly file: string,
    private readonly scope: { url: string; projectId?: string; model: string; version: string },
  ) {
    this.doc = this.load();
  }

  private load(): StateDocument {
    const fresh: StateDocument = { ...this.scope, files: {} };
    let parsed: Partial<StateDocument>;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<StateDocument>;
    } catch {
      return fresh; // missing or unreadable: start over (sessions are also found by the server's file list)
    }
    const same =
      parsed.url === this.scope.url &&
      (parsed.projectId ?? undefined) === (this.scope.projectId ?? undefined) &&
      parsed.model === this.scope.model &&
      parsed.version === this.scope.version;
    if (!same || typeof parsed.files !== 'object' || parsed.files === null) return fresh;
    const files: Record<string, FileSessionState> = {};
    for (const [rel, f] of Object.entries(parsed.files)) {
      if (
        f &&
        typeof f.path === 'string' &&
        typeof f.size === 'number' &&
        typeof f.mtimeMs === 'number' &&
        typeof f.uploadId === 'string'
      ) {
        files[rel] = f;
      }
    }
    return { ...fresh, files };
  }

  get(relPath: string): FileSessionState | undefined {
    return this.doc.files[relPath];
  }

  entries(): [string, FileSessionState][] {
    return Object.entries(this.doc.files);
  }

  set(relPath: string, state: FileSessionState): void {
    this.doc.files[relPath] = state;
    this.save();
  }

  delete(relPath: string): void {
    if (!(relPath in this.doc.files)) return;
    delete this.doc.files[relPath];
    this.save();
  }

  save(): void {
    if (Object.keys(this.doc.files).length === 0) this.remove();
    else writePrivateFile(this.file, `${JSON.stringify(this.doc, null, 2)}\n`);
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}
