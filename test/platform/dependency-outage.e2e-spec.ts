import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildCheckpoint } from '../../libs/core/src/models/verification/test-checkpoint';
import { createProject, startTestApp, TestApp } from '../support/app';
import { uploadCheckpoint } from '../support/checkpoint';
import { startTestS3, TestS3 } from '../support/s3';
import { TcpProxy } from '../support/tcp-proxy';
import { pollUntil } from '../support/until';

/**
 * PostgreSQL and Redis go away under a running server (a TCP proxy in front of each resets every
 * connection and refuses new ones) and come back. While one is away the API answers 503 with
 * Retry-After naming it — never a 500, never a hang — and /readyz says not_ready; nothing accepted is
 * half-done (a finalize the queue could not take leaves the version as it was); once it is back the
 * same process serves again without a restart.
 */
describe('PostgreSQL and Redis outages', () => {
  let pg: TcpProxy;
  let redis: TcpProxy;
  let s3: TestS3;
  let t: TestApp;
  let member: string;

  beforeAll(async () => {
    pg = await TcpProxy.forUrl(inject('databaseUrl')).start();
    redis = await TcpProxy.forUrl(inject('redisUrl')).start();
    s3 = await startTestS3();
    t = await startTestApp({
      ...s3.env,
      DATABASE_URL: pg.urlFor(inject('databaseUrl')),
      REDIS_URL: redis.urlFor(inject('redisUrl')),
    });
    member = (await createProject(t, 'outage', ['member'])).keys.member.key;
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
    await pg?.stop();
    await redis?.stop();
  });

  it('PostgreSQL away: 503 naming it with Retry-After, /readyz not_ready; back: served again', async () => {
    expect((await t.call('POST', '/api/v1/models', { key: member, body: { name: 'pg-out' } })).status).toBe(
      201,
    );
    await pg.cut();
    try {
      const list = await t.call('GET', '/api/v1/models', { key: member });
      expect(list.status, list.text).toBe(503);
      expect(list.body.error.code).toBe('dependency_unavailable');
      expect(list.body.error.message).toMatch(/PostgreSQL|database/i);
      expect(list.headers.get('retry-after')).toMatch(/^\d+$/);
      const create = await t.call('POST', '/api/v1/models', { key: member, body: { name: 'pg-out-2' } });
      expect(create.status, create.text).toBe(503);
      const ready = await t.call('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({
        status: 'not_ready',
        checks: { postgres: 'unreachable', redis: 'ok' },
      });
    } finally {
      await pg.restore();
    }
    await pollUntil('ready again', async () => (await t.call('GET', '/readyz')).status === 200, 30_000, 100);
    const models = await t.call('GET', '/api/v1/models', { key: member });
    expect(models.status).toBe(200);
    // The create that failed during the outage did not happen; the one before it did.
    expect(models.body.data.map((m: { name: string }) => m.name)).toEqual(['pg-out']);
  });

  it('Redis away: finalize answers 503 and leaves the version as it was; back: it verifies', async () => {
    const model = 'redis-out';
    expect((await t.call('POST', '/api/v1/models', { key: member, body: { name: model } })).status).toBe(201);
    await uploadCheckpoint(t, member, model, 'v1', buildCheckpoint({}));

    await redis.cut();
    try {
      const fin = await t.call('POST', `/api/v1/models/${model}/versions/v1/finalize`, { key: member });
      expect(fin.status, fin.text).toBe(503);
      expect(fin.body.error.code).toBe('dependency_unavailable');
      expect(fin.body.error.message).toMatch(/Redis|queue/i);
      expect(fin.headers.get('retry-after')).toMatch(/^\d+$/);
      const v = await t.call('GET', `/api/v1/models/${model}/versions/v1`, { key: member });
      expect(v.body.state).toBe('UPLOADING');
      const ready = await t.call('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toMatchObject({ postgres: 'ok', redis: 'unreachable' });
    } finally {
      await redis.restore();
    }
    await pollUntil('ready again', async () => (await t.call('GET', '/readyz')).status === 200, 30_000, 100);
    // Ready again means the queues' connection is back too: the enqueue goes through at once.
    const again = await t.call('POST', `/api/v1/models/${model}/versions/v1/finalize`, { key: member });
    expect(again.status, again.text).toBe(202);
    await pollUntil(
      'READY',
      async () =>
        (await t.call('GET', `/api/v1/models/${model}/versions/v1`, { key: member })).body.state === 'READY',
      30_000,
      100,
    );
  }, 60_000);
});
