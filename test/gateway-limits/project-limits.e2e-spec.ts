import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TestApp } from '../support/app';

describe('project limits: PATCH /api/v1/projects/{id} {limits}', () => {
  let t: TestApp;
  let projectId: string;
  let member: string;
  const patch = (body: unknown, key = t.adminKey, id = projectId) =>
    t.call('PATCH', `/api/v1/projects/${id}`, { key, body });

  beforeAll(async () => {
    t = await startTestApp();
    projectId = (
      await t.call('POST', '/api/v1/projects', {
        key: t.adminKey,
        body: { name: `pl-${randomBytes(3).toString('hex')}` },
      })
    ).body.id;
    member = (
      await t.call('POST', '/api/v1/api-keys', {
        key: t.adminKey,
        body: { name: 'member', role: 'member', projectId },
      })
    ).body.key;
  });
  afterAll(() => t?.close());

  it('a new project uses the platform defaults for every limit', async () => {
    const r = await t.call('GET', `/api/v1/projects/${projectId}`, { key: member });
    expect(r.body.limits).toEqual({
      requestsPerMinute: null,
      tokensPerMinute: null,
      concurrentStreams: null,
    });
  });

  it('an admin sets some limits; the others stay; GET shows them', async () => {
    const r = await patch({ limits: { requestsPerMinute: 120, concurrentStreams: 0 } });
    expect(r.status).toBe(200);
    expect(r.body.limits).toEqual({ requestsPerMinute: 120, tokensPerMinute: null, concurrentStreams: 0 });
    const r2 = await patch({ limits: { tokensPerMinute: 50_000 } });
    expect(r2.body.limits).toEqual({ requestsPerMinute: 120, tokensPerMinute: 50_000, concurrentStreams: 0 });
    const got = await t.call('GET', `/api/v1/projects/${projectId}`, { key: member });
    expect(got.body.limits).toEqual(r2.body.limits);
  });

  it('null resets one field, or all of them, to the defaults', async () => {
    await patch({ limits: { requestsPerMinute: 5, tokensPerMinute: 6, concurrentStreams: 7 } });
    expect((await patch({ limits: { tokensPerMinute: null } })).body.limits).toEqual({
      requestsPerMinute: 5,
      tokensPerMinute: null,
      concurrentStreams: 7,
    });
    expect((await patch({ limits: null })).body.limits).toEqual({
      requestsPerMinute: null,
      tokensPerMinute: null,
      concurrentStreams: null,
    });
  });

  it('only admins change limits', async () => {
    const r = await patch({ limits: { requestsPerMinute: 1_000_000 } }, member);
    expect(r.status).toBe(403);
  });

  it.each([
    [{ limits: { requestsPerMinute: -1 } }, 'limits.requestsPerMinute'],
    [{ limits: { tokensPerMinute: 1.5 } }, 'limits.tokensPerMinute'],
    [{ limits: { concurrentStreams: '3' } }, 'limits.concurrentStreams'],
    [{ limits: { requestPerMinute: 3 } }, 'limits'],
    [{ name: 'renamed', limits: {} }, ''],
    [{}, 'limits'],
  ])('400 for %j naming "%s"', async (body, field) => {
    const r = await patch(body);
    expect(r.status).toBe(400);
    expect(r.body.error.issues.map((i: { field: string }) => i.field)).toContain(field);
  });

  it('404 for a project that does not exist', async () => {
    expect((await patch({ limits: { requestsPerMinute: 1 } }, t.adminKey, randomUUID())).status).toBe(404);
    expect((await patch({ limits: { requestsPerMinute: 1 } }, t.adminKey, 'not-a-uuid')).status).toBe(404);
  });
});
