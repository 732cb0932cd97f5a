import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, readConfig, resolveSettings, uploadsDir, writeConfig } from './config';

describe('config', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'troupe-config-'));

  it('lives at $TROUPE_CONFIG or ~/.config/troupe/config.json, uploads state beside it', () => {
    expect(configPath({ TROUPE_CONFIG: '/etc/t.json' })).toBe('/etc/t.json');
    expect(configPath({})).toBe(path.join(os.homedir(), '.config', 'troupe', 'config.json'));
    expect(uploadsDir('/a/b/config.json')).toBe('/a/b/uploads');
  });

  it('is written with mode 0600 and read back', () => {
    const file = path.join(dir, 'nested', 'config.json');
    writeConfig(file, { url: 'http://x', key: 'k', projectId: 'p' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readConfig(file)).toEqual({ url: 'http://x', key: 'k', projectId: 'p' });
    expect(readConfig(path.join(dir, 'none.json'))).toEqual({});
    writeFileSync(path.join(dir, 'bad.json'), '{');
    expect(() => readConfig(path.join(dir, 'bad.json'))).toThrow(/not valid JSON/);
  });

  it('flags beat the environment, which beats the file', () => {
    const stored = { url: 'http://file', key: 'kfile', projectId: 'pfile' };
    expect(resolveSettings({}, {}, stored)).toEqual({ url: 'http://file', key: 'kfile', projectId: 'pfile' });
    expect(resolveSettings({}, { TROUPE_URL: 'http://env/', TROUPE_KEY: 'kenv' }, stored)).toEqual({
      url: 'http://env',
      key: 'kenv',
      projectId: 'pfile',
    });
    expect(
      resolveSettings(
        { url: 'http://flag', key: 'kflag', project: 'pf' },
        { TROUPE_URL: 'http://env' },
        stored,
      ),
    ).toEqual({ url: 'http://flag', key: 'kflag', projectId: 'pf' });
    expect(() => resolveSettings({}, {}, {})).toThrow(/not logged in/);
    expect(() => resolveSettings({ url: 'ftp://x', key: 'k' }, {}, {})).toThrow(/only http/);
  });
});
