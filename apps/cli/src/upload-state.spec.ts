import { mkdtempSync, readFileSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stateFilePath, UploadStateStore } from './upload-state';

describe('upload state file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'troupe-state-'));
  const scope = { url: 'http://s', model: 'm', version: 'v1' };
  const entry = { path: '/data/a.safetensors', size: 10, mtimeMs: 1.5, uploadId: 'u1' };

  it('names files after model and version, safely', () => {
    expect(stateFilePath('/x', 'llama', 'v1.0')).toBe('/x/llama-v1.0.json');
    expect(stateFilePath('/x', 'a/b', 'v 1')).toBe('/x/a_b-v_1.json');
  });

  it('persists each change at once with mode 0600 and removes the file when empty', () => {
    const file = path.join(dir, 'uploads', 'm-v1.json');
    const store = new UploadStateStore(file, scope);
    store.set('a.safetensors', entry);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).files['a.safetensors']).toEqual(entry);
    expect(new UploadStateStore(file, scope).get('a.safetensors')).toEqual(entry);
    store.delete('a.safetensors');
    expect(existsSync(file)).toBe(false);
  });

  it('ignores state written for another server, project or version, and garbage', () => {
    const file = path.join(dir, 'other.json');
    new UploadStateStore(file, scope).set('a', entry);
    expect(new UploadStateStore(file, { ...scope, url: 'http://other' }).get('a')).toBeUndefined();
    expect(new UploadStateStore(file, { ...scope, projectId: 'p' }).get('a')).toBeUndefined();
    expect(new UploadStateStore(file, { ...scope, version: 'v2' }).get('a')).toBeUndefined();
    expect(new UploadStateStore(path.join(dir, 'missing.json'), scope).entries()).toEqual([]);
  });
});
