import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelVersion, createProject, startTestApp, TestApp } from '../support/app';
import { startTestS3, TestS3 } from '../support/s3';
import { pollUntil } from '../support/until';

/**
 * Upload requests per project and per process are capped (UPLOAD_MAX_CONCURRENT_PER_PROJECT,
 * UPLOAD_MAX_CONCURRENT): one more answers 429 with Retry-After at once, another project is not held
 * back by the first one's uploads, and the slot comes back when the upload ends.
 */

const MiB = 1024 * 1024;

describe('concurrent upload limits', () => {
  let s3: TestS3;
  let t: TestApp;
  let a: string;
  let b: string;
  let c: string;

  const put = (key: string, path: string, body: Buffer) =>
    t.call('PUT', `/api/v1/models/m/versions/v1/files/${path}`, {
      key,
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });

  /** A PUT whose body arrives in two halves: the upload holds its slot until `finish()`. */
  const slowPut = (key: string, path: string, body: Buffer) => {
    const { hostname, port } = new URL(t.url);
    const req = request({
      hostname,
      port,
      path: `/api/v1/models/m/versions/v1/files/${path}`,
      method: 'PUT',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/octet-stream',
        'content-length': body.length,
      },
    });
    const status = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
    req.write(body.subarray(0, body.length / 2));
    return { status, finish: () => req.end(body.subarray(body.length / 2)) };
  };

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestApp({
      ...s3.env,
      UPLOAD_MAX_CONCURRENT_PER_PROJECT: '1',
      UPLOAD_MAX_CONCURRENT: '2',
    });
    for (const name of ['a', 'b', 'c']) {
      const p = await createProject(t, `slots-${name}`, ['member']);
      const key = p.keys.member.key;
      await createModelVersion(t, key, 'm', 'v1');
      if (name === 'a') a = key;
      else if (name === 'b') b = key;
      else c = key;
    }
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  it('answers 429 with Retry-After past the limits, and frees the slot when the upload ends', async () => {
    const inProgress = async () => {
      const text = (await t.call('GET', '/metrics')).text;
      const line = text.split('\n').find((l) => l.startsWith('troupe_upload_requests_in_progress '));
      return Number(line?.split(' ').pop());
    };
    const first = slowPut(a, 'one.bin', randomBytes(2 * MiB));
    await pollUntil('the first upload in progress', async () => (await inProgress()) === 1, 10_000, 20);
    const sameProject = await put(a, 'probe.bin', Buffer.from('x'));
    expect(sameProject.status).toBe(429);
    expect(sameProject.headers.get('retry-after')).toBe('1');
    expect(sameProject.body.error.code).toBe('rate_limited');
    expect(sameProject.body.error.message).toMatch(/UPLOAD_MAX_CONCURRENT_PER_PROJECT=1/);

    // Another project is not held back by the first one's upload...
    const second = slowPut(b, 'two.bin', randomBytes(MiB));
    await pollUntil('both uploads in progress', async () => (await inProgress()) === 2, 10_000, 20);
    // ...but the process is full now (2 of 2).
    const full = await put(c, 'three.bin', Buffer.from('y'));
    expect(full.status).toBe(429);
    expect(full.body.error.message).toMatch(/UPLOAD_MAX_CONCURRENT=2/);

    first.finish();
    second.finish();
    expect(await first.status).toBe(201);
    expect(await second.status).toBe(201);
    expect(await inProgress()).toBe(0);
    expect((await put(a, 'after.bin', Buffer.from('z'))).status).toBe(201);
    expect((await put(c, 'three.bin', Buffer.from('y'))).status).toBe(201);
  });
});
