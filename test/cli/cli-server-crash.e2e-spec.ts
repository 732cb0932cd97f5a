import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verification } from '@troupe/core';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { freePort, startStack, Stack } from '../../libs/testing/src';
import { testEnv } from '../support/app';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { startCli, until, writeBigCheckpoint } from './cli-runner';
import { ThrottleProxy } from './throttle-proxy';

/**
 * The server process dies (SIGKILL: no shutdown hooks, in-memory hash state lost) while the CLI is
 * streaming parts of a session, and comes back on the same address. The CLI rides through on its
 * retries, the session and its parts come back from PostgreSQL, the whole-file sha256 is completed by
 * re-reading only what the lost in-memory hash chain could not vouch for, and the version ends READY
 * with every file's sha256 equal to ours.
 */

const MiB = 1024 * 1024;
const PART = 5 * MiB;

describe('a CLI upload across a server crash and restart', () => {
  let tmp: string;
  let stack: Stack;
  let server: ServerProcess | undefined;
  let serverEnv: Record<string, string>;
  let proxy: ThrottleProxy;
  let memberKey: string;

  const api = async (method: string, url: string, key: string, body?: unknown) => {
    const res = await fetch(`${server!.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'troupe-cli-crash-'));
    stack = await startStack({
      dataDir: path.join(tmp, 'stack'),
      env: { DATABASE_URL: inject('databaseUrl'), REDIS_URL: inject('redisUrl') },
      s3: true,
      s3Bucket: `crash-${Date.now()}`,
    });
    const s3 = stack.s3!;
    // One environment for both lives of the server: same port, admin key, queue prefix and database.
    serverEnv = testEnv({
      PORT: String(await freePort()),
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: s3.bucket,
      UPLOAD_PART_BYTES: String(PART),
    });
    server = await startServerProcess(serverEnv);
    const admin = serverEnv.TROUPE_ADMIN_KEY;
    const project = await api('POST', '/api/v1/projects', admin, { name: `crash-${Date.now()}` });
    expect(project.status).toBe(201);
    const key = await api('POST', '/api/v1/api-keys', admin, {
      name: 'cli',
      role: 'member',
      projectId: project.body.id,
    });
    expect(key.status).toBe(201);
    memberKey = key.body.key;
    // ~25 MB/s between the CLI and the server, so that the crash lands mid-upload.
    proxy = new ThrottleProxy(25e6);
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
    await stack?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('rides through on retries and ends READY with the right checksums', async () => {
    const url = await proxy.start(server!.url);
    const env = {
      TROUPE_CONFIG: path.join(tmp, 'troupe', 'config.json'),
      TROUPE_URL: url,
      TROUPE_KEY: memberKey,
    };
    expect((await api('POST', '/api/v1/models', memberKey, { name: 'crashy' })).status).toBe(201);
    const ckpt = writeBigCheckpoint(mkdtempSync(path.join(tmp, 'ckpt-')));
    const shard = verification.shardName(1, 2);
    const partCount = Math.ceil(ckpt.sizes.get(shard)! / PART);

    const cli = startCli(
      ['--json', 'models', 'upload', ckpt.dir, '--model', 'crashy', '--version', 'v1', '--parallel', '4'],
      env,
    );
    const stateFile = path.join(tmp, 'troupe', 'uploads', 'crashy-v1.json');
    let uploadId = '';
    await until(
      () => {
        if (!existsSync(stateFile)) return false;
        const files = Object.values(JSON.parse(readFileSync(stateFile, 'utf8')).files) as {
          uploadId?: string;
        }[];
        uploadId = files.find((f) => f.uploadId)?.uploadId ?? '';
        return uploadId !== '';
      },
      60_000,
      'the upload session in the state file',
    );
    await until(
      async () => (await api('GET', `/api/v1/uploads/${uploadId}`, memberKey)).body.parts.length >= 3,
      60_000,
      'three parts on the server',
    );

    await server!.kill();
    server = await startServerProcess(serverEnv);

    const session = await api('GET', `/api/v1/uploads/${uploadId}`, memberKey);
    expect(session.status).toBe(200);
    const kept = session.body.parts.length as number;
    expect(kept).toBeGreaterThanOrEqual(3);
    expect(kept).toBeLessThan(partCount);

    const r = await cli.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cannot reach|ECONNREFUSED|socket|retry \d\/\d/);
    const out = JSON.parse(r.stdout);
    expect(out.state).toBe('READY');

    const version = await api('GET', '/api/v1/models/crashy/versions/v1', memberKey);
    expect(version.body.state).toBe('READY');
    expect(
      new Map(version.body.files.map((f: { path: string; sha256: string }) => [f.path, f.sha256])),
    ).toEqual(ckpt.sums);
    const done = await api('GET', `/api/v1/uploads/${uploadId}`, memberKey);
    expect(done.body.state).toBe('COMPLETED');
  }, 240_000);
});
