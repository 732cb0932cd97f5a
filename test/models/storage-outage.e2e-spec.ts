import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelVersion, createProject, startTestApp, TestApp } from '../support/app';
import { startTestS3, TestS3 } from '../support/s3';

/**
 * Object storage goes away in the middle of a resumable upload and comes back. While it is away:
 * parts and streaming PUTs answer 503 with Retry-After naming the store, nothing is recorded for them,
 * /readyz says "degraded" (the process stays ready: everything else is served), and the rest of the API
 * works. Once it is back the same session takes the missing part and completes with the right sha256:
 * nothing that was accepted before the outage is lost.
 */

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('object storage outage during an upload', () => {
  let s3: TestS3;
  let t: TestApp;
  let member: string;
  let projectId: string;
  const model = 'outage';
  const size = 12 * MiB + 3;
  const file = randomBytes(size);
  const part = (n: number) => file.subarray((n - 1) * 5 * MiB, Math.min(n * 5 * MiB, size));
  const putPart = (id: string, n: number) =>
    t.call('PUT', `/api/v1/uploads/${id}/parts/${n}`, {
      key: member,
      body: part(n),
      headers: { 'content-type': 'application/octet-stream' },
    });

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestApp({ ...s3.env, UPLOAD_PART_BYTES: String(5 * MiB) });
    const project = await createProject(t, 'outage', ['member']);
    member = project.keys.member.key;
    projectId = project.id;
    await createModelVersion(t, member, model, 'v1');
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  it('answers 503 while the store is away, keeps the session, and completes once it is back', async () => {
    const opened = await t.call('POST', `/api/v1/models/${model}/versions/v1/uploads`, {
      key: member,
      body: { path: 'weights.bin', size, sha256: sha(file) },
    });
    expect(opened.status, opened.text).toBe(201);
    const id = opened.body.uploadId as string;
    expect((await putPart(id, 1)).status).toBe(200);

    await s3.pause();

    const failed = await putPart(id, 2);
    expect(failed.status, failed.text).toBe(503);
    expect(failed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(failed.body.error.code).toBe('dependency_unavailable');
    expect(failed.body.error.message).toMatch(/object storage/i);

    const small = await t.call('PUT', `/api/v1/models/${model}/versions/v1/files/config.json`, {
      key: member,
      body: Buffer.from('{}'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(small.status, small.text).toBe(503);

    // Readiness: degraded, not unready (the API and the gateway go on without the store).
    const degraded = await t.call('GET', '/readyz');
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.checks.objectStorage).toMatch(/^unreachable/);
    expect((await t.call('GET', `/api/v1/models/${model}`, { key: member })).status).toBe(200);

    // What the session holds: part 1 only (the failed part was not recorded).
    const during = await t.call('GET', `/api/v1/uploads/${id}`, { key: member });
    expect(during.body.state).toBe('ACTIVE');
    expect(during.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1]);

    await s3.resume();

    for (const n of [2, 3]) expect((await putPart(id, n)).status).toBe(200);
    const done = await t.call('POST', `/api/v1/uploads/${id}/complete`, { key: member });
    expect(done.status, done.text).toBe(200);
    expect(done.body.sha256).toBe(sha(file));
    expect((await s3.read(`${projectId}/${model}/v1/weights.bin`))!.equals(file)).toBe(true);

    const version = await t.call('GET', `/api/v1/models/${model}/versions/v1`, { key: member });
    expect(version.body.files).toEqual([{ path: 'weights.bin', size, sha256: sha(file) }]);
  }, 60_000);
});
