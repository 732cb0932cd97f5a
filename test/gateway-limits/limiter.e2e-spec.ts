import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { CallerRef } from '@troupe/gateway';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalLimiter } from '../../libs/gateway/src/limits/local-limiter';
import { limitKeys, SCRIPTS } from '../../libs/gateway/src/limits/limit-scripts';
import { REASONS, retryAfterSeconds } from '../../libs/gateway/src/limits/limit-math';
import { startTestApp, TestApp, testEnv } from '../support/app';
import { LimitsNode, startLimitsNode, until } from './nodes';
import { TcpProxy } from '../support/tcp-proxy';

const LEASE_MS = 3_000;
/** Limit changes must arrive over Redis pub/sub: the periodic reload is an hour away. */
const NODE_ENV = { GATEWAY_LIMITS_REFRESH_MS: '3600000', GATEWAY_STREAM_LEASE_MS: String(LEASE_MS) };

type Limits = {
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
  concurrentStreams?: number | null;
};

describe('gateway limits shared by gateway processes through Redis', () => {
  let t: TestApp;
  let a: LimitsNode;
  let b: LimitsNode;
  let projectId: string;
  let redis: Redis;
  const caller = (): CallerRef => ({ projectId, keyId: randomUUID() });

  /** PATCHes the project's limits through the API and waits until both processes apply them. */
  async function setLimits(limits: Limits, nodes: LimitsNode[] = [a, b]) {
    const r = await t.call('PATCH', `/api/v1/projects/${projectId}`, { key: t.adminKey, body: { limits } });
    expect(r.status).toBe(200);
    for (const n of nodes) {
      await until('the new limits in every process', () =>
        Object.entries(limits).every(
          ([k, v]) => n.table.limitsFor(projectId)[k as keyof Limits] === (v ?? 0),
        ),
      );
    }
  }

  beforeAll(async () => {
    t = await startTestApp();
    const p = await t.call('POST', '/api/v1/projects', {
      key: t.adminKey,
      body: { name: `limits-${randomBytes(3).toString('hex')}` },
    });
    expect(p.status).toBe(201);
    projectId = p.body.id;
    [a, b] = await Promise.all([startLimitsNode(NODE_ENV), startLimitsNode(NODE_ENV)]);
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    redis?.disconnect();
    await t?.close();
  });

  it('counts requests per minute of one key across two processes', async () => {
    await setLimits({ requestsPerMinute: 3, tokensPerMinute: null, concurrentStreams: null });
    const k = caller();
    expect((await a.limiter.admit(k, { stream: false })).ok).toBe(true);
    expect((await b.limiter.admit(k, { stream: false })).ok).toBe(true);
    expect((await a.limiter.admit(k, { stream: false })).ok).toBe(true);
    const refused = await b.limiter.admit(k, { stream: false });
    expect(refused).toMatchObject({ ok: false, reason: 'requests_per_minute' });
    if (refused.ok) return;
    // A burst of 3, then one request every 20 s: the 4th may come in (just under) 20 s.
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(19);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(20);
    expect(refused.message).toContain('3 requests per minute');
    expect((await a.limiter.admit(k, { stream: false })).ok).toBe(false);
    // Limits are per key: another key of the project is unaffected.
    expect((await b.limiter.admit(caller(), { stream: false })).ok).toBe(true);
    expect(await b.metric('troupe_gateway_limit_refusals_total', { reason: 'requests_per_minute' })).toBe(1);
  });

  it('refuses a key on one process once the other charged its tokens past the limit', async () => {
    await setLimits({ requestsPerMinute: null, tokensPerMinute: 1_000, concurrentStreams: null });
    const k = caller();
    expect((await a.limiter.admit(k, { stream: false })).ok).toBe(true);
    a.limiter.chargeTokens(k, 600);
    expect((await b.limiter.admit(k, { stream: false })).ok).toBe(true);
    b.limiter.chargeTokens(k, 900);
    const key = limitKeys(k.keyId!).tpm;
    await until('both charges in Redis', async () => Number(await redis.hget(key, 'l')) >= 1_499);
    const refused = await a.limiter.admit(k, { stream: false });
    expect(refused).toMatchObject({ ok: false, reason: 'tokens_per_minute' });
    if (refused.ok) return;
    // 1,500 tokens against 1,000 per minute: 500 must drain first, i.e. 30 s.
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(29);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  it('shares concurrent-stream slots; release frees exactly one slot, once', async () => {
    await setLimits({ requestsPerMinute: null, tokensPerMinute: null, concurrentStreams: 2 });
    const k = caller();
    const s1 = await a.limiter.admit(k, { stream: true });
    const s2 = await b.limiter.admit(k, { stream: true });
    expect(s1.ok && s2.ok).toBe(true);
    expect(await a.limiter.admit(k, { stream: true })).toMatchObject({
      ok: false,
      reason: 'concurrent_streams',
      retryAfterSeconds: 1,
    });
    // A request that does not stream takes no slot.
    expect((await a.limiter.admit(k, { stream: false })).ok).toBe(true);
    if (!s2.ok || !s1.ok) return;
    s2.release();
    s2.release();
    await until(
      'the slot freed in Redis',
      async () => (await redis.zcard(limitKeys(k.keyId!).streams)) === 1,
    );
    const s3 = await a.limiter.admit(k, { stream: true });
    expect(s3.ok).toBe(true);
    expect((await b.limiter.admit(k, { stream: true })).ok).toBe(false);
    s1.release();
    if (s3.ok) s3.release();
    await until('every slot freed', async () => (await redis.zcard(limitKeys(k.keyId!).streams)) === 0);
  });

  it('keeps a live process slot past its lease, and frees a killed process slot after it', async () => {
    await setLimits({ requestsPerMinute: null, tokensPerMinute: null, concurrentStreams: 1 });
    const k = caller();
    const child = spawn(
      process.execPath,
      [
        '-r',
        path.join(__dirname, '../support/register-ts.cjs'),
        path.join(__dirname, 'fixtures/stream-holder.cjs'),
        projectId,
        k.keyId!,
        '1',
      ],
      {
        env: { ...process.env, ...testEnv(NODE_ENV) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (d) => resolve(String(d)));
        child.once('exit', (code) => reject(new Error(`holder exited ${code}: ${stderr}`)));
      });
      expect(JSON.parse(line)).toEqual({ held: ['ok'] });
      // Two leases later the holder's renewals have kept its slot.
      await new Promise((r) => setTimeout(r, 2 * LEASE_MS + 500));
      expect(await a.limiter.admit(k, { stream: true })).toMatchObject({
        ok: false,
        reason: 'concurrent_streams',
      });
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    // Killed without releasing: the slot is still taken right after, and comes free with its lease.
    expect((await b.limiter.admit(k, { stream: true })).ok).toBe(false);
    const admitted = await until(
      'the dead process slot to expire',
      async () => {
        const r = await b.limiter.admit(k, { stream: true });
        return r.ok ? r : null;
      },
      3 * LEASE_MS,
    );
    admitted!.release();
  });

  it('enforces the limits per process while Redis is unreachable, and shares them again after', async () => {
    await setLimits({ requestsPerMinute: 3, tokensPerMinute: null, concurrentStreams: null });
    const proxy = await TcpProxy.forUrl(inject('redisUrl')).start();
    const d = await startLimitsNode({
      ...NODE_ENV,
      REDIS_URL: proxy.urlFor(inject('redisUrl')),
      GATEWAY_LIMITS_REDIS_TIMEOUT_MS: '100',
    });
    try {
      const k = caller();
      expect((await d.limiter.admit(k, { stream: false })).ok).toBe(true);
      expect((await a.limiter.admit(k, { stream: false })).ok).toBe(true);
      expect(await d.metric('troupe_gateway_limit_redis_up')).toBe(1);

      await proxy.cut();
      // Redis is down for d: it still answers, from its own count (a fresh bucket of 3).
      for (let i = 0; i < 3; i++) expect((await d.limiter.admit(k, { stream: false })).ok).toBe(true);
      expect(await d.limiter.admit(k, { stream: false })).toMatchObject({
        ok: false,
        reason: 'requests_per_minute',
      });
      expect(await d.metric('troupe_gateway_limit_local_decisions_total')).toBe(4);
      expect(await d.metric('troupe_gateway_limit_redis_up')).toBe(0);
      // The other process still counts in Redis: 2 used there, one left.
      expect((await a.limiter.admit(k, { stream: false })).ok).toBe(true);
      expect((await a.limiter.admit(k, { stream: false })).ok).toBe(false);

      // Back: d counts in Redis again, with everyone else.
      await proxy.restore();
      const k2 = caller();
      await until('d to count in Redis again', async () => {
        await d.limiter.admit(caller(), { stream: false });
        return (await d.metric('troupe_gateway_limit_redis_up')) === 1;
      });
      expect((await d.limiter.admit(k2, { stream: false })).ok).toBe(true);
      expect((await d.limiter.admit(k2, { stream: false })).ok).toBe(true);
      expect((await a.limiter.admit(k2, { stream: false })).ok).toBe(true);
      expect((await d.limiter.admit(k2, { stream: false })).ok).toBe(false);

      // Redis connected but silent: the admission does not hang, it is decided locally.
      proxy.blackhole();
      const errorsBefore = await d.metric('troupe_gateway_limit_redis_errors_total');
      expect((await d.limiter.admit(caller(), { stream: false })).ok).toBe(true);
      expect(await d.metric('troupe_gateway_limit_redis_errors_total')).toBe(errorsBefore + 1);
      expect(await d.metric('troupe_gateway_limit_redis_up')).toBe(0);
    } finally {
      // Redis goes away for good first: a blackholed connection would keep quit() waiting.
      await proxy.stop();
      await d.close();
    }
  });

  it('a key whose limits are all unlimited needs no Redis at all', async () => {
    await setLimits({ requestsPerMinute: 0, tokensPerMinute: 0, concurrentStreams: 0 });
    const k = caller();
    for (let i = 0; i < 50; i++) expect((await a.limiter.admit(k, { stream: true })).ok).toBe(true);
    expect(await redis.exists(limitKeys(k.keyId!).rpm, limitKeys(k.keyId!).streams)).toBe(0);
  });
});

describe('the Lua scripts mirror the pure arithmetic', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(() => redis.disconnect());

  type Step = { at: number } & ({ op: 'admit'; stream: boolean } | { op: 'charge'; tokens: number });
  const limits = { requestsPerMinute: 4, tokensPerMinute: 900, concurrentStreams: 2 };
  const T0 = 1_700_000_000_000;
  // A scripted minute of one key: bursts, refusals, refills, overcharged tokens, streams.
  const steps: Step[] = [
    ...[0, 1, 2, 3, 4, 5].map((i) => ({ at: T0 + i * 10, op: 'admit' as const, stream: i % 2 === 0 })),
    { at: T0 + 100, op: 'charge', tokens: 1_350 },
    { at: T0 + 14_999, op: 'admit', stream: false },
    { at: T0 + 15_001, op: 'admit', stream: false },
    { at: T0 + 30_000, op: 'admit', stream: false },
    { at: T0 + 30_100, op: 'admit', stream: false },
    { at: T0 + 45_000, op: 'admit', stream: false },
    { at: T0 + 45_001, op: 'charge', tokens: 10 },
    { at: T0 + 47_000, op: 'admit', stream: true },
    { at: T0 + 120_000, op: 'admit', stream: true },
    { at: T0 + 120_001, op: 'admit', stream: true },
  ];

  it('gives the same decisions and retry delays as LocalLimiter for the same steps', async () => {
    const subject = randomUUID();
    const keys = limitKeys(subject);
    const local = new LocalLimiter();
    // Long leases: LocalLimiter's slots are freed by release() only, so none may expire here either.
    const lease = 3_600_000;
    for (const [i, step] of steps.entries()) {
      if (step.op === 'charge') {
        await SCRIPTS.charge.run(redis, [keys.tpm], [step.at, limits.tokensPerMinute, step.tokens]);
        local.charge(subject, limits.tokensPerMinute, step.tokens, step.at);
        continue;
      }
      const reply = (await SCRIPTS.admit.run(
        redis,
        [keys.rpm, keys.tpm, keys.streams],
        [
          step.at,
          limits.requestsPerMinute,
          limits.tokensPerMinute,
          limits.concurrentStreams,
          step.stream ? 1 : 0,
          `slot-${i}`,
          lease,
        ],
      )) as number[];
      const expected = local.admit(subject, limits, step.stream, step.at);
      const got =
        reply[0] === 1 ? { ok: true } : { ok: false, reason: REASONS[reply[1] - 1], retryAfterMs: reply[2] };
      expect({ step: i, ok: got.ok }).toEqual({ step: i, ok: expected.ok });
      if (!expected.ok && !got.ok) {
        expect(got.reason).toBe(expected.reason);
        // Lua rounds the delay up to a whole millisecond (and keeps levels to 1e-6); Retry-After is the same.
        expect(got.retryAfterMs! - expected.retryAfterMs).toBeGreaterThan(-1e-6);
        expect(got.retryAfterMs! - expected.retryAfterMs).toBeLessThan(1);
        expect(retryAfterSeconds(got.retryAfterMs!)).toBe(retryAfterSeconds(expected.retryAfterMs));
      }
    }
    await redis.del(keys.rpm, keys.tpm, keys.streams);
  });
});
