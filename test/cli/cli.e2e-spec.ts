import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verification } from '@troupe/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startStack, Stack } from '../../libs/testing/src';
import { startTestApp, TestApp } from '../support/app';
import { runCli, startCli, until, writeBigCheckpoint } from './cli-runner';
import { ThrottleProxy } from './throttle-proxy';

/**
 * The CLI against the real server (PostgreSQL, Redis, s3rver on loopback, verification worker): a
 * generated sharded checkpoint (one shard over 64 MiB, so it goes through a session with parallel
 * parts), interrupted with Ctrl-C, resumed, verified READY, sha256 compared with our own.
 */

const MiB = 1024 * 1024;
const PART = 5 * MiB;

describe('troupe CLI against the real server', () => {
  let stack: Stack;
  let app: TestApp;
  let proxy: ThrottleProxy;
  let url: string;
  let tmp: string;
  let env: Record<string, string>;
  let memberKey: string;
  let projectId: string;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'troupe-cli-e2e-'));
    stack = await startStack({
      dataDir: path.join(tmp, 'stack'),
      env: { DATABASE_URL: inject('databaseUrl'), REDIS_URL: inject('redisUrl') },
      s3: true,
      s3Bucket: `cli-${Date.now()}`,
    });
    const s3 = stack.s3!;
    app = await startTestApp({
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: s3.bucket,
      UPLOAD_PART_BYTES: String(PART),
    });
    const project = await app.call('POST', '/api/v1/projects', {
      key: app.adminKey,
      body: { name: `cli-${Date.now()}` },
    });
    expect(project.status, project.text).toBe(201);
    projectId = project.body.id;
    const key = await app.call('POST', '/api/v1/api-keys', {
      key: app.adminKey,
      body: { name: 'cli', role: 'member', projectId },
    });
    expect(key.status, key.text).toBe(201);
    memberKey = key.body.key;
    // ~25 MB/s between the CLI and the server, so that an interrupt lands mid-upload.
    proxy = new ThrottleProxy(25e6);
    url = await proxy.start(app.url);
    env = { TROUPE_CONFIG: path.join(tmp, 'troupe', 'config.json') };
  });

  afterAll(async () => {
    await proxy?.stop();
    await app?.close();
    await stack?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('uploads a sharded checkpoint, survives Ctrl-C, resumes with the missing parts only, and ends READY', async () => {
    const login = await runCli(['login', '--url', url, '--key', memberKey], env);
    expect(login.code, login.stderr).toBe(0);
    const created = await runCli(['models', 'create', 'tiny-llama', '--description', 'CLI e2e'], env);
    expect(created.code, created.stderr).toBe(0);

    const ckpt = writeBigCheckpoint(mkdtempSync(path.join(tmp, 'ckpt-')));
    const shard = verification.shardName(1, 2);
    const shardSize = ckpt.sizes.get(shard)!;
    expect(shardSize).toBeGreaterThan(64 * MiB);
    const partCount = Math.ceil(shardSize / PART);

    const args = [
      'models',
      'upload',
      ckpt.dir,
      '--model',
      'tiny-llama',
      '--version',
      'v1',
      '--parallel',
      '4',
    ];
    const first = startCli(args, env);
    const stateFile = path.join(tmp, 'troupe', 'uploads', 'tiny-llama-v1.json');
    let uploadId = '';
    await until(
      () => {
        if (!existsSync(stateFile)) return false;
        uploadId = (
          Object.values(JSON.parse(readFileSync(stateFile, 'utf8')).files)[0] as { uploadId: string }
        ).uploadId;
        return true;
      },
      60_000,
      'the upload session in the state file',
    );
    await until(
      async () =>
        (await app.call('GET', `/api/v1/uploads/${uploadId}`, { key: memberKey })).body.parts.length >= 4,
      60_000,
      'four parts on the server',
    );
    first.child.kill('SIGINT');
    const interrupted = await first.done;
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(interrupted.stderr).toContain('interrupted; run the same command again to resume');

    const session = await app.call('GET', `/api/v1/uploads/${uploadId}`, { key: memberKey });
    expect(session.body).toMatchObject({ state: 'ACTIVE', partCount, partSize: PART });
    const partsBefore = session.body.parts.length;
    expect(partsBefore).toBeGreaterThanOrEqual(4);
    expect(partsBefore).toBeLessThan(partCount);

    const second = await runCli(['--json', ...args], env);
    expect(second.code, second.stderr).toBe(0);
    const out = JSON.parse(second.stdout);
    expect(out.state).toBe('READY');
    expect(out.stats.sessionsResumed).toBe(1);
    // Only the missing parts went out (a part whose bytes had all arrived may have landed since).
    expect(out.stats.partsResumed).toBeGreaterThanOrEqual(partsBefore);
    expect(out.stats.partsSent + out.stats.partsResumed).toBe(partCount);
    expect(out.stats.partsSent).toBeLessThan(partCount);
    expect(out.metadata).toBeTruthy();
    expect(existsSync(stateFile)).toBe(false);

    const version = await app.call('GET', '/api/v1/models/tiny-llama/versions/v1', { key: memberKey });
    expect(version.body.state).toBe('READY');
    const files = new Map<string, string>(
      version.body.files.map((f: { path: string; sha256: string }) => [f.path, f.sha256]),
    );
    expect(files).toEqual(ckpt.sums);
    for (const f of version.body.files as { path: string; size: number }[])
      expect(f.size).toBe(ckpt.sizes.get(f.path));

    const show = await runCli(['models', 'show', 'tiny-llama'], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('version v1: READY, 6 files');
    expect(show.stdout).toContain(`${shard}`);
    expect(show.stdout).toContain(ckpt.sums.get(shard)!);

    // Everything is there: a new run sends nothing.
    const third = await runCli(['--json', ...args], env);
    expect(third.code, third.stderr).toBe(0);
    expect(JSON.parse(third.stdout).stats).toMatchObject({ filesSkipped: 6, partsSent: 0, bytesSent: 0 });
  }, 240_000);

  it('retries parts when the connection drops mid-upload', async () => {
    const dir = mkdtempSync(path.join(tmp, 'flaky-'));
    const data = randomBytes(3 * PART + 12345);
    writeFileSync(path.join(dir, 'weights.bin'), data);
    const start = proxy.forwarded;
    const cli = startCli(
      [
        '--json',
        'models',
        'upload',
        dir,
        '--model',
        'tiny-llama',
        '--version',
        'flaky',
        '--small-file-limit',
        String(MiB),
      ],
      { ...env, TROUPE_URL: url, TROUPE_KEY: memberKey },
    );
    await until(() => proxy.forwarded - start > 4 * MiB, 60_000, 'bytes on the wire');
    proxy.dropAll();
    const r = await cli.done;
    // Verification fails (no config.json): what matters here is that the bytes arrived intact.
    expect(r.stderr).toMatch(/weights\.bin part \d\/4: cannot reach .*; retry 1\/5/);
    const out = JSON.parse(r.stdout);
    expect(out.state).toBe('FAILED');
    expect(out.failureReason).toMatch(/config\.json/);
    expect(out.files).toEqual([
      { path: 'weights.bin', size: data.length, sha256: createHash('sha256').update(data).digest('hex') },
    ]);
    expect(r.stderr).toContain('error: verification failed');
    expect(r.code).toBe(1);
  }, 120_000);

  it('admin keys work with --project; inference keys are told what they can do', async () => {
    const adminEnv = { TROUPE_CONFIG: path.join(tmp, 'admin', 'config.json') };
    const login = await runCli(
      ['login', '--url', url, '--key', app.adminKey, '--project', projectId],
      adminEnv,
    );
    expect(login.code, login.stderr).toBe(0);
    const list = await runCli(['--json', 'models', 'list'], adminEnv);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).data.map((m: { name: string }) => m.name)).toContain('tiny-llama');

    const inf = await app.call('POST', '/api/v1/api-keys', {
      key: app.adminKey,
      body: { name: 'inf', role: 'inference', projectId },
    });
    const infEnv = { TROUPE_CONFIG: path.join(tmp, 'inf', 'config.json') };
    const infLogin = await runCli(['login', '--url', url, '--key', inf.body.key], infEnv);
    expect(infLogin.code, infLogin.stderr).toBe(0);
    expect(infLogin.stdout).toContain('inference-only');
    const denied = await runCli(['models', 'list'], infEnv);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error: .+ \(request [0-9a-f-]{36}\)$/m);
  }, 60_000);
});
