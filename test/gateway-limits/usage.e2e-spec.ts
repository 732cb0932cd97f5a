import { randomBytes, randomUUID } from 'node:crypto';
import type { UsageEntry } from '@troupe/gateway';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, TestApp } from '../support/app';
import { LimitsNode, startLimitsNode, until } from './nodes';
import { TcpProxy } from '../support/tcp-proxy';

const unique = (p: string) => `${p}-${randomBytes(3).toString('hex')}`;

/**
 * Usage accounting: the recorder of a gateway process writes in batches (and on shutdown), keeps its
 * entries while PostgreSQL is away, and GET /api/v1/usage reports them per service, key and day,
 * within the caller's project.
 */
describe('usage records: batched writes and GET /api/v1/usage', () => {
  let t: TestApp;
  let projectA: string;
  let projectB: string;
  let memberA: { key: string; id: string };
  let inferenceA: { key: string; id: string };
  let memberB: { key: string; id: string };
  // Days of their own, so that other usage in the database cannot change the totals checked here.
  const DAY1 = '2021-03-01';
  const DAY2 = '2021-03-02';
  const RANGE = `from=${DAY1}&to=2021-03-03`;

  const entry = (over: Partial<UsageEntry>): UsageEntry => ({
    projectId: projectA,
    serviceId: null,
    serviceName: 'alpha',
    apiKeyId: memberA.id,
    endpoint: '/v1/chat/completions',
    status: 200,
    promptTokens: 10,
    completionTokens: 5,
    durationMs: 12,
    createdAt: new Date(`${DAY1}T10:00:00Z`),
    ...over,
  });
  const usage = (query: string, key = t.adminKey) => t.call('GET', `/api/v1/usage?${query}`, { key });

  beforeAll(async () => {
    t = await startTestApp();
    const project = async () =>
      (await t.call('POST', '/api/v1/projects', { key: t.adminKey, body: { name: unique('usage') } })).body
        .id as string;
    projectA = await project();
    projectB = await project();
    const key = async (role: string, projectId: string) =>
      (
        await t.call('POST', '/api/v1/api-keys', {
          key: t.adminKey,
          body: { name: `${role} key`, role, projectId },
        })
      ).body as { key: string; id: string };
    memberA = await key('member', projectA);
    inferenceA = await key('inference', projectA);
    memberB = await key('member', projectB);
  });
  afterAll(() => t?.close());

  describe('recorded by a gateway process', () => {
    let node: LimitsNode;

    beforeAll(async () => {
      // No timer flush during the test: only full batches, then shutdown, write.
      node = await startLimitsNode({ GATEWAY_USAGE_FLUSH_MS: '600000', GATEWAY_USAGE_BATCH_SIZE: '5' });
      const entries: UsageEntry[] = [
        // project A, day 1: alpha x4 by the member key, beta x2 by the inference key
        ...Array.from({ length: 4 }, () => entry({})),
        ...Array.from({ length: 2 }, () =>
          entry({ serviceName: 'beta', apiKeyId: inferenceA.id, promptTokens: 100, completionTokens: 50 }),
        ),
        // project A, day 2: alpha x3 (one a 429 without tokens), beta x3
        ...Array.from({ length: 2 }, () => entry({ createdAt: new Date(`${DAY2}T23:59:59.999Z`) })),
        entry({
          createdAt: new Date(`${DAY2}T08:00:00Z`),
          status: 429,
          promptTokens: 0,
          completionTokens: 0,
        }),
        ...Array.from({ length: 3 }, () =>
          entry({ serviceName: 'beta', apiKeyId: inferenceA.id, createdAt: new Date(`${DAY2}T01:00:00Z`) }),
        ),
        // project B: one request
        entry({ projectId: projectB, apiKeyId: memberB.id, serviceName: 'gamma' }),
        // a service deleted since (its id no longer exists): kept, under its name
        entry({ serviceId: randomUUID(), serviceName: 'gone' }),
        // a project deleted since: dropped
        entry({ projectId: randomUUID() }),
      ];
      for (const e of entries) node.recorder.record(e);
    });
    afterAll(() => node?.close());

    it('writes full batches at once and keeps the rest for the next flush', async () => {
      // 15 entries, batches of 5: three full batches go out; the last one holds the deleted project's row.
      await until('three batches written', async () => (await usage(RANGE)).body?.totals?.requests === 14);
      expect(node.recorder.pending).toBe(0);
      expect(await node.metric('troupe_usage_records_written_total')).toBe(14);
      expect(await node.metric('troupe_usage_records_dropped_total', { cause: 'project_deleted' })).toBe(1);
      // Less than a batch waits for the timer (or shutdown).
      node.recorder.record(entry({ projectId: projectB, apiKeyId: memberB.id, serviceName: 'gamma' }));
      expect(node.recorder.pending).toBe(1);
    });

    it('writes what is left on shutdown', async () => {
      const late = await startLimitsNode({ GATEWAY_USAGE_FLUSH_MS: '600000', GATEWAY_USAGE_BATCH_SIZE: '5' });
      const before = (await usage(`${RANGE}&project=${projectB}`)).body.totals.requests;
      late.recorder.record(entry({ projectId: projectB, apiKeyId: memberB.id, serviceName: 'gamma' }));
      late.recorder.record(entry({ projectId: projectB, apiKeyId: memberB.id, serviceName: 'gamma' }));
      expect(late.recorder.pending).toBe(2);
      await late.close();
      expect((await usage(`${RANGE}&project=${projectB}`)).body.totals.requests).toBe(before + 2);
    });

    it('groups by service within the project', async () => {
      const r = await usage(`${RANGE}&groupBy=service`, memberA.key);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        from: `${DAY1}T00:00:00.000Z`,
        to: '2021-03-03T00:00:00.000Z',
        groupBy: 'service',
        projectId: projectA,
      });
      expect(r.body.data).toEqual([
        {
          projectId: projectA,
          serviceId: null,
          serviceName: 'alpha',
          requests: 7,
          promptTokens: 60,
          completionTokens: 30,
          totalTokens: 90,
        },
        {
          projectId: projectA,
          serviceId: null,
          serviceName: 'beta',
          requests: 5,
          promptTokens: 230,
          completionTokens: 115,
          totalTokens: 345,
        },
        {
          projectId: projectA,
          serviceId: null,
          serviceName: 'gone',
          requests: 1,
          promptTokens: 10,
          completionTokens: 5,
          totalTokens: 15,
        },
      ]);
      expect(r.body.totals).toEqual({
        requests: 13,
        promptTokens: 300,
        completionTokens: 150,
        totalTokens: 450,
      });
    });

    it('groups by key, naming each key', async () => {
      const r = await usage(`${RANGE}&groupBy=key&project=${projectA}`);
      expect(r.status).toBe(200);
      expect(r.body.data).toEqual([
        expect.objectContaining({ apiKeyId: inferenceA.id, keyName: 'inference key', requests: 5 }),
        expect.objectContaining({ apiKeyId: memberA.id, keyName: 'member key', requests: 8 }),
      ]);
    });

    it('groups by UTC day', async () => {
      const r = await usage(`${RANGE}&groupBy=day`, memberA.key);
      expect(r.body.data).toEqual([
        { day: DAY1, requests: 7, promptTokens: 250, completionTokens: 125, totalTokens: 375 },
        { day: DAY2, requests: 6, promptTokens: 50, completionTokens: 25, totalTokens: 75 },
      ]);
      // [from, to) is half-open and exact to the millisecond.
      const day2Only = await usage(
        `from=${DAY2}T00:00:00Z&to=${DAY2}T23:59:59.999Z&groupBy=day`,
        memberA.key,
      );
      expect(day2Only.body.totals.requests).toBe(4);
    });

    it('shows a member only their project; admins every project or the one they name', async () => {
      expect((await usage(RANGE, memberB.key)).body.totals.requests).toBeGreaterThanOrEqual(1);
      expect((await usage(RANGE, memberB.key)).body.projectId).toBe(projectB);
      const foreign = await usage(`${RANGE}&project=${projectA}`, memberB.key);
      expect(foreign.status).toBe(200);
      expect(foreign.body.data).toEqual([]);
      expect(foreign.body.totals.requests).toBe(0);
      const all = await usage(RANGE);
      expect(all.body.projectId).toBeNull();
      expect(all.body.totals.requests).toBe(
        (await usage(`${RANGE}&project=${projectA}`)).body.totals.requests +
          (await usage(`${RANGE}&project=${projectB}`)).body.totals.requests,
      );
      expect((await usage(RANGE, inferenceA.key)).status).toBe(403);
      expect((await t.call('GET', `/api/v1/usage?${RANGE}`)).status).toBe(401);
    });
  });

  it.each([
    ['from=yesterday', 400, 'from'],
    ['to=2021-13-45', 400, 'to'],
    ['from=2021-03-01T10:00:00', 400, 'from'],
    ['groupBy=week', 400, 'groupBy'],
    ['project=abc', 400, 'project'],
    ['from=2021-03-02&to=2021-03-01', 422, 'from'],
    ['from=2021-03-01&to=2021-03-01', 422, 'from'],
    ['from=2020-01-01&to=2021-03-01', 422, 'to'],
  ])('?%s -> %d naming %s', async (query, status, field) => {
    const r = await usage(query, memberA.key);
    expect(r.status).toBe(status);
    expect(r.body.error.issues.map((i: { field: string }) => i.field)).toContain(field);
    expect(r.body.error.message).toContain(field);
  });

  it('defaults to the last 30 days, grouped by day', async () => {
    const r = await usage('', memberA.key);
    expect(r.status).toBe(200);
    expect(r.body.groupBy).toBe('day');
    expect(Date.parse(r.body.to) - Date.parse(r.body.from)).toBe(30 * 86_400_000);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await t.call('GET', '/api/docs/json')).body;
    const params = doc.paths['/api/v1/usage'].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(['from', 'to', 'groupBy', 'project']));
  });

  it('keeps records in memory while PostgreSQL is unreachable (bounded) and writes them once it is back', async () => {
    const proxy = await TcpProxy.forUrl(inject('databaseUrl')).start();
    const node = await startLimitsNode({
      DATABASE_URL: proxy.urlFor(inject('databaseUrl')),
      GATEWAY_USAGE_FLUSH_MS: '50',
      GATEWAY_USAGE_BATCH_SIZE: '5',
      GATEWAY_USAGE_BUFFER_MAX: '20',
    });
    const day = '2021-04-01';
    try {
      await proxy.cut();
      for (let i = 0; i < 25; i++) {
        node.recorder.record(entry({ projectId: projectB, createdAt: new Date(`${day}T12:00:00Z`) }));
      }
      expect(await node.metric('troupe_usage_records_dropped_total', { cause: 'buffer_full' })).toBe(5);
      await until('a failed write', async () => (await node.metric('troupe_usage_flush_failures_total')) > 0);
      expect(node.recorder.pending).toBe(20);
      await proxy.restore();
      await until('everything written', () => node.recorder.pending === 0, 30_000);
      const r = await usage(`from=${day}&to=2021-04-02&project=${projectB}`);
      expect(r.body.totals.requests).toBe(20);
      expect(await node.metric('troupe_usage_records_written_total')).toBe(20);
    } finally {
      await node.close();
      await proxy.stop();
    }
  });
});
