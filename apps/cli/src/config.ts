import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './output';

/** What `troupe login` stores. */
export interface StoredConfig {
  url?: string;
  key?: string;
  projectId?: string;
}

export interface Settings {
  url: string;
  key: string;
  projectId?: string;
}

export interface GlobalFlags {
  url?: string;
  key?: string;
  project?: string;
  json?: boolean;
}

type Env = Record<string, string | undefined>;

/** `$TROUPE_CONFIG`, else `~/.config/troupe/config.json`. */
export function configPath(env: Env = process.env): string {
  return env.TROUPE_CONFIG || path.join(os.homedir(), '.config', 'troupe', 'config.json');
}

/** Upload resume state lives next to the config file. */
export function uploadsDir(configFile: string): string {
  return path.join(path.dirname(configFile), 'uploads');
}

export function readConfig(file: string): StoredConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON: fix it or run troupe login again`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`${file} must hold a JSON object: fix it or run troupe login again`);
  }
  const o = parsed as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return { url: str(o.url), key: str(o.key), projectId: str(o.projectId) };
}

/** Writes the config readable by its owner only (it holds a key): directory 0700, file 0600. */
export function writeConfig(file: string, config: StoredConfig): void {
  writePrivateFile(file, `${JSON.stringify(config, null, 2)}\n`);
}

/** Atomic write (temp file + rename) with mode 0600, creating the directory with 0700. */
export function writePrivateFile(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Flags beat the environment (`TROUPE_URL`, `TROUPE_KEY`, `TROUPE_PROJECT`), which beats the file. */
export function resolveSettings(flags: GlobalFlags, env: Env, stored: StoredConfig): Settings {
  const url = flags.url || env.TROUPE_URL || stored.url;
  const key = flags.key || env.TROUPE_KEY || stored.key;
  const projectId = flags.project || env.TROUPE_PROJECT || stored.projectId;
  if (!url || !key) {
    throw new CliError(
      'not logged in: run "troupe login --url <url> --key <key>", or set TROUPE_URL and TROUPE_KEY (or pass --url and --key)',
    );
  }
  return { url: normalizeUrl(url), key, projectId };
}

export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`invalid URL "${url}": expected e.g. http://localhost:3000`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError(`invalid URL "${url}": only http and https are supported`);
  }
  return parsed.toString().replace(/\/+$/, '');
}
