import { randomBytes } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { ObjectStorage } from '@troupe/storage';
import { Queue } from 'bullmq';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, startTestApp, TestApp } from '../support/app';

/**
 * s3rver cannot abort multipart uploads; fauxqs (an in-memory S3 emulator) can, like MinIO and S3.
 * After the TTL job ran, the aborted upload id must be unknown to the store: nothing incomplete stays.
 */
describe('abandoned upload sessions', () => {
  let fauxqs: Awaited<ReturnType<typeof startFauxqs>>;
  let t: TestApp;
  let member: string;

  beforeAll(async () => {
    fauxqs = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
    fauxqs.createBucket('troupe-ttl');
    t = await startTestApp({
      S3_ENDPOINT: `http://127.0.0.1:${fauxqs.port}`,
      S3_ACCESS_KEY: 'test',
      S3_SECRET_KEY: 'test',
      S3_BUCKET: 'troupe-ttl',
      UPLOAD_SESSION_TTL_MS: '60000',
      UPLOAD_PART_BYTES: String(5 * 1024 * 1024),
    });
    member = (await createProject(t, 'ttl', ['member'])).keys.member.key;
    await t.call('POST', '/api/v1/models', { key: member, body: { name: 'm' } });
    await t.call('POST', '/api/v1/models/m/versions', { key: member, body: { version: 'v1' } });
  });
  afterAll(async () => {
    await t?.close();
    await fauxqs?.stop();
  });

  it('the scheduled job aborts expired sessions in the store and in the database, and leaves live ones', async () => {
    const start = async (path: string) =>
      (
        await t.call('POST', '/api/v1/models/m/versions/v1/uploads', {
          key: member,
          body: { path, size: 10 * 1024 * 1024 },
        })
      ).body.uploadId as string;
    const stale = await start('stale.bin');
    const live = await start('live.bin');
    const part = randomBytes(5 * 1024 * 1024);
    const first = await t.call('PUT', `/api/v1/uploads/${stale}/parts/1`, { key: member, body: part });
    expect(first.status, first.text).toBe(200);

    // Age the stale session past its TTL.
    const { Client } = await import('pg');
    const db = new Client({ connectionString: t.config.database.url });
    await db.connect();
    const { rows } = await db.query(
      "UPDATE upload_sessions SET expires_at = now() - interval '1 minute' WHERE id = $1 RETURNING object_key, s3_upload_id",
      [stale],
    );
    await db.end();

    const queue = t.app.get<Queue>(getQueueToken('maintenance'));
    const job = await queue.add('expire-upload-sessions', {});
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !(await job.isCompleted())) await new Promise((r) => setTimeout(r, 50));
    expect(await job.isCompleted()).toBe(true);
    expect((await queue.getJob(job.id!))?.returnvalue).toEqual({ aborted: 1 });

    expect((await t.call('GET', `/api/v1/uploads/${stale}`, { key: member })).body.state).toBe('ABORTED');
    expect((await t.call('GET', `/api/v1/uploads/${live}`, { key: member })).body.state).toBe('ACTIVE');

    // The store no longer knows the aborted upload: its parts are gone.
    const storage = t.app.get(ObjectStorage);
    await expect(
      storage.uploadPart(rows[0].object_key, rows[0].s3_upload_id, 2, part, part.length),
    ).rejects.toThrow(/not found|NoSuchUpload/i);
    // ...while the live one still takes parts.
    expect((await t.call('PUT', `/api/v1/uploads/${live}/parts/1`, { key: member, body: part })).status).toBe(
      200,
    );
  });
});
