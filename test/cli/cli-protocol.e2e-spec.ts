import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startCli, until, writeCheckpoint } from './cli-runner';
import { FakeServer } from './fake-server';

/**
 * The CLI's protocol handling against an in-memory implementation of the upload API (fake-server.ts):
 * login and errors, parallel parts, retries of dropped parts, Ctrl-C and resume, sessions that are
 * gone, files already there, verification failures. The real server: cli.e2e-spec.ts.
 */

const KiB = 1024;
const MEMBER = 'troupe_member-key';
const INFERENCE = 'troupe_inference-key';
// Files from 256 KiB go through sessions of 64 KiB parts here (64 MiB with the real defaults).
const SMALL = ['--small-file-limit', String(256 * KiB)];

describe('troupe CLI against the upload API contract (in-memory server)', () => {
  let server: FakeServer;
  let tmp: string;
  let env: Record<string, string>;
  let ckpt: string;
  let sums: Map<string, string>;

  beforeAll(() => {
    ckpt = mkdtempSync(path.join(os.tmpdir(), 'troupe-ckpt-'));
    sums = writeCheckpoint(ckpt, [
      { path: 'config.json', size: 0, content: '{"architectures":["FakeForCausalLM"]}' },
      { path: 'tokenizer/tokenizer.json', size: 100 * KiB },
      { path: 'tokenizer/added_tokens.json', size: 0, content: '' },
      { path: 'model-00001-of-00002.safetensors', size: 1024 * KiB + 123 },
      { path: 'model-00002-of-00002.safetensors', size: 700 * KiB },
    ]);
    writeFileSync(path.join(ckpt, '.gitattributes'), 'hidden');
  });

  beforeEach(async () => {
    server = new FakeServer({ keys: { [MEMBER]: 'member', [INFERENCE]: 'inference' }, partSize: 64 * KiB });
    await server.start();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'troupe-cli-'));
    env = { TROUPE_CONFIG: path.join(tmp, 'config.json') };
  });

  afterEach(async () => {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  afterAll(() => rmSync(ckpt, { recursive: true, force: true }));

  const login = async () => {
    const r = await runCli(['login', '--url', server.url, '--key', MEMBER], env);
    expect(r.code, r.stderr).toBe(0);
    const m = await runCli(['models', 'create', 'demo'], env);
    expect(m.code, m.stderr).toBe(0);
  };

  const upload = (...extra: string[]) => [
    'models',
    'upload',
    ckpt,
    '--model',
    'demo',
    '--version',
    'v1',
    ...SMALL,
    '--poll-interval-ms',
    '50',
    ...extra,
  ];

  function expectUploaded(): void {
    const v = server.version('demo', 'v1')!;
    expect(v.state).toBe('READY');
    expect(new Map([...v.files.values()].map((f) => [f.path, f.sha256]))).toEqual(sums);
  }

  it('login checks the key, stores url and key with mode 0600; env overrides the file', async () => {
    const r = await runCli(
      ['login', '--url', `${server.url}/`, '--key', MEMBER, '--project', server.projectId],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('logged in');
    expect(statSync(env.TROUPE_CONFIG).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(env.TROUPE_CONFIG, 'utf8'))).toEqual({
      url: server.url,
      key: MEMBER,
      projectId: server.projectId,
    });

    const list = await runCli(['--json', 'models', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ data: [] });

    const overridden = await runCli(['models', 'list'], { ...env, TROUPE_KEY: 'troupe_wrong' });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toMatch(
      /^error: Invalid, expired or revoked API key \(request [0-9a-f-]{36}\)$/m,
    );
  });

  it('login says when a key is inference-only, refuses a bad key, and names an unreachable server', async () => {
    const inf = await runCli(['login', '--url', server.url, '--key', INFERENCE], env);
    expect(inf.code).toBe(0);
    expect(inf.stdout).toContain('inference-only');

    const bad = await runCli(['login', '--url', server.url, '--key', 'troupe_nope'], {
      TROUPE_CONFIG: path.join(tmp, 'b.json'),
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /error: the server refused the key: Invalid, expired or revoked API key \(request /,
    );
    expect(existsSync(path.join(tmp, 'b.json'))).toBe(false);

    const port = await closedPort();
    const down = await runCli(['login', '--url', `http://127.0.0.1:${port}`, '--key', MEMBER], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`error: cannot reach http://127.0.0.1:${port}: connection refused`);

    const none = await runCli(['models', 'list'], { TROUPE_CONFIG: path.join(tmp, 'none.json') });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('not logged in');
  });

  it('models create, list, show, versions create; server validation errors list their issues', async () => {
    await login();
    const bad = await runCli(['models', 'create', 'Not_Valid'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error: Invalid request \(request .+\)\n {2}- name: must be a DNS label/);
    const dup = await runCli(['models', 'create', 'demo'], env);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already exists');

    const v = await runCli(['--json', 'models', 'versions', 'create', 'demo', 'v0'], env);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ version: 'v0', state: 'UPLOADING' });

    const list = await runCli(['models', 'list'], env);
    expect(list.stdout).toMatch(/^NAME {2}ID .*\ndemo {2}/);
    const show = await runCli(['models', 'show', 'demo'], env);
    expect(show.stdout).toContain('version v0: UPLOADING, 0 files');
    const json = JSON.parse((await runCli(['--json', 'models', 'show', 'demo'], env)).stdout);
    expect(json).toMatchObject({
      name: 'demo',
      versions: [{ version: 'v0', state: 'UPLOADING', files: [] }],
    });
    const missing = await runCli(['models', 'show', 'nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: Model nope not found \(request /);
  });

  it('uploads a checkpoint: small files in one request, large ones in parallel parts, then waits for READY', async () => {
    await login();
    server.partDelayMs = 20;
    const r = await runCli(['--json', ...upload('--parallel', '3')], env);
    expect(r.code, r.stderr).toBe(0);
    expectUploaded();
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ version: 'v1', state: 'READY', metadata: { fileCount: 5 } });
    // 1024 KiB + 123 B -> 17 parts, 700 KiB -> 11 parts.
    expect(out.stats).toMatchObject({
      filesUploaded: 5,
      filesSkipped: 0,
      partsSent: 28,
      partsResumed: 0,
      sessionsCreated: 2,
    });
    expect(server.maxPartsInFlight).toBe(3);
    const smallPuts = server.log.filter((l) => l.method === 'PUT' && l.path.includes('/files/'));
    expect(smallPuts.map((l) => l.path).sort()).toEqual([
      '/api/v1/models/demo/versions/v1/files/config.json',
      '/api/v1/models/demo/versions/v1/files/tokenizer/added_tokens.json',
      '/api/v1/models/demo/versions/v1/files/tokenizer/tokenizer.json',
    ]);
    expect(r.stderr).toContain('not uploading 1 hidden entry: .gitattributes');
    expect(r.stderr).toMatch(/uploaded [\d.]+ (KiB|MiB) \/ [\d.]+ (KiB|MiB) \(100%\)/); // the plain progress line (no TTY)
    expect(r.stderr).not.toContain('\x1b[');
    expect(existsSync(path.join(tmp, 'uploads', 'demo-v1.json'))).toBe(false);

    // Again: every file is there with its size, nothing is sent.
    const again = await runCli(['--json', ...upload()], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).stats).toMatchObject({ filesSkipped: 5, partsSent: 0 });
    expect(again.stderr).toContain('already READY');
  });

  it('retries a dropped part and a 500, and gives up after the retries with a resumable state', async () => {
    await login();
    server.partFault = (n, attempt) =>
      n === 2 && attempt === 1 ? 'drop' : n === 5 && attempt <= 2 ? 'error500' : undefined;
    const ok = await runCli(upload('--retry-delay-ms', '10'), env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/model-0000\d-of-00002\.safetensors part 2\/\d+: .*connection.*; retry 1\/5/);
    expect(ok.stderr).toMatch(/part 5\/\d+: Internal error \(request .+\); retry 2\/5/);
    expectUploaded();

    // A connection that keeps dropping: 5 retries, then stop with the state saved.
    server.models.get('demo')!.versions.delete('v1');
    server.partFault = (n) => (n >= 4 ? 'drop' : undefined);
    const failed = await runCli(upload('--retry-delay-ms', '5', '--parallel', '1'), env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/retry 5\/5/);
    expect(failed.stderr).toContain('run the same command again to resume');
    expect(existsSync(path.join(tmp, 'uploads', 'demo-v1.json'))).toBe(true);

    server.partFault = () => undefined;
    const before = server.partsStored();
    const resumed = await runCli(['--json', ...upload()], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const stats = JSON.parse(resumed.stdout).stats;
    expect(stats.partsResumed).toBeGreaterThanOrEqual(3);
    expect(stats.partsSent + stats.partsResumed).toBe(28);
    expect(server.partsStored() - before).toBe(stats.partsSent);
    expectUploaded();
  });

  it('Ctrl-C stops at once (exit 130) and the same command resumes with the missing parts only', async () => {
    await login();
    server.partDelayMs = 40;
    const cli = startCli(upload('--parallel', '2'), env);
    await until(() => server.partsStored() >= 6, 60_000, 'six parts stored');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted; run the same command again to resume');
    const state = JSON.parse(readFileSync(path.join(tmp, 'uploads', 'demo-v1.json'), 'utf8'));
    const [entry] = Object.values(state.files) as { uploadId: string; size: number }[];
    expect(server.uploads.get(entry.uploadId)?.state).toBe('ACTIVE');
    const storedBefore = server.partsStored();

    server.partDelayMs = 0;
    const again = await runCli(['--json', ...upload('--parallel', '2')], env);
    expect(again.code, again.stderr).toBe(0);
    const stats = JSON.parse(again.stdout).stats;
    expect(stats.sessionsResumed).toBeGreaterThanOrEqual(1);
    expect(stats.partsResumed).toBeGreaterThanOrEqual(6);
    expect(stats.partsSent).toBeLessThan(28);
    // Only what was missing went out; nothing twice.
    expect(server.partsStored() - storedBefore).toBe(stats.partsSent);
    expectUploaded();
  });

  it('starts a new session when the saved one is gone, or when a part says it is, or when the file changed', async () => {
    await login();
    server.partDelayMs = 30;
    const cli = startCli(upload('--parallel', '1'), env);
    await until(() => server.partsStored() >= 3, 60_000, 'three parts stored');
    cli.child.kill('SIGINT');
    expect((await cli.done).code).toBe(130);
    server.partDelayMs = 0;

    // The session expired on the server.
    const state = JSON.parse(readFileSync(path.join(tmp, 'uploads', 'demo-v1.json'), 'utf8'));
    for (const f of Object.values(state.files) as { uploadId: string }[]) server.uploads.delete(f.uploadId);
    // And the new session is aborted under the CLI's feet at its part 3.
    let abortedOnce = false;
    server.partFault = (n) => {
      if (n === 3 && !abortedOnce) {
        abortedOnce = true;
        return 'gone';
      }
      return undefined;
    };
    const r = await runCli(['--json', ...upload('--parallel', '1')], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('the earlier upload session expired or was aborted; starting a new one');
    expect(r.stderr).toContain('the upload session expired or was aborted; starting a new one');
    expectUploaded();
  });

  it('starts a file over when it changed since the interrupted run', async () => {
    await login();
    const dir = mkdtempSync(path.join(tmp, 'ckpt-'));
    writeCheckpoint(dir, [
      { path: 'config.json', size: 0, content: '{}' },
      { path: 'big.bin', size: 1024 * KiB },
    ]);
    server.partDelayMs = 30;
    const args = ['models', 'upload', dir, '--model', 'demo', '--version', 'v2', ...SMALL, '--parallel', '1'];
    const cli = startCli(args, env);
    await until(() => server.partsStored() >= 2, 60_000, 'two parts stored');
    cli.child.kill('SIGINT');
    expect((await cli.done).code).toBe(130);
    server.partDelayMs = 0;
    const sums2 = writeCheckpoint(dir, [{ path: 'big.bin', size: 1024 * KiB }]);
    utimesSync(path.join(dir, 'big.bin'), new Date(), new Date(Date.now() + 5000));
    const r = await runCli(['--json', ...args], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('big.bin changed since the interrupted upload; starting it over');
    expect(JSON.parse(r.stdout).stats).toMatchObject({ partsResumed: 0, partsSent: 16 });
    expect(server.version('demo', 'v2')!.files.get('big.bin')!.sha256).toBe(sums2.get('big.bin'));
  });

  it('prints the reason and exits 1 when verification fails; the fixed checkpoint then goes into the same version', async () => {
    await login();
    const dir = mkdtempSync(path.join(tmp, 'ckpt-'));
    writeCheckpoint(dir, [{ path: 'weights.bin', size: 10 }]);
    const args = ['models', 'upload', dir, '--model', 'demo', '--version', 'bad', '--poll-interval-ms', '50'];
    const r = await runCli(args, env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('demo/bad: FAILED: config.json is missing');
    expect(r.stderr).toContain(
      'error: verification failed: config.json is missing: add it and upload to a new version',
    );

    writeCheckpoint(dir, [{ path: 'config.json', size: 0, content: '{}' }]);
    const again = await runCli(['--json', ...args], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('demo/bad FAILED verification (config.json is missing');
    expect(JSON.parse(again.stdout)).toMatchObject({
      state: 'READY',
      stats: { filesUploaded: 1, filesSkipped: 1 },
    });

    const noModel = await runCli(['models', 'upload', dir, '--model', 'ghost', '--version', 'v1'], env);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toContain('hint: create the model first: troupe models create ghost');
  });
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
