import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, ServerProcess } from '../support/server-process';
import { GatewayStack, startGatewayStack, until } from './support';

/**
 * A second gateway in its own OS process (`ROLES=gateway`, run from the sources), in front of the same
 * cluster, PostgreSQL and Redis as the platform under test: it routes to the service, shares each
 * key's request budget with the other process through Redis, and refuses a revoked key within a
 * second.
 */
describe('a gateway in its own OS process', () => {
  let s: GatewayStack;
  let child: ServerProcess;
  const model = 'solo';

  const chat = (url: string, key: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
    });

  const newKey = async (name: string): Promise<{ key: string; id: string }> =>
    (
      await s.t.call('POST', '/api/v1/api-keys', {
        key: s.t.adminKey,
        body: { name, role: 'inference', projectId: s.projectId },
      })
    ).body;

  beforeAll(async () => {
    s = await startGatewayStack();
    child = await startServerProcess(s.gatewayEnv());
    await s.deploy(model, { initial: 1 });
    await until('the other process routes to the service', async () => {
      const r = await chat(child.url, s.inference);
      return r.status === 200;
    });
  });
  afterAll(async () => {
    await child?.stop();
    await s?.stop();
  });

  it('counts one key’s requests across both processes: the budget spent on both, both refuse', async () => {
    const patched = await s.t.call('PATCH', `/api/v1/projects/${s.projectId}`, {
      key: s.t.adminKey,
      body: { limits: { requestsPerMinute: 3 } },
    });
    expect(patched.status).toBe(200);
    try {
      // A probe key spends its budget until each process refuses it: both apply the limit now.
      const probe = (await newKey('probe')).key;
      for (const url of [child.url, s.t.url]) {
        await until(`the limit applied by ${url}`, async () => (await chat(url, probe)).status === 429);
      }
      // A fresh key: 3 requests alternating between the processes pass, the 4th is refused by either.
      const { key } = await newKey('shared-budget');
      expect((await chat(s.t.url, key)).status).toBe(200);
      expect((await chat(child.url, key)).status).toBe(200);
      expect((await chat(s.t.url, key)).status).toBe(200);
      for (const url of [child.url, s.t.url]) {
        const refused = await chat(url, key);
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        const body = (await refused.json()) as { error: { type: string; code: string } };
        expect(body.error.code).toBe('requests_per_minute');
      }
    } finally {
      await s.t.call('PATCH', `/api/v1/projects/${s.projectId}`, {
        key: s.t.adminKey,
        body: { limits: { requestsPerMinute: null } },
      });
    }
  });

  it('refuses a key revoked through the API within a second', async () => {
    const created = await newKey('revoked');
    expect((await chat(child.url, created.key)).status).toBe(200); // cached in the other process
    const res = await s.t.call('DELETE', `/api/v1/api-keys/${created.id}`, { key: s.t.adminKey });
    expect(res.status).toBe(204);
    const revokedAt = Date.now();
    await until(
      '401 from the other process',
      async () => (await chat(child.url, created.key)).status === 401,
      1_000,
      10,
    );
    console.log(
      `[gateway e2e] revoked key refused by a separate OS process after ${Date.now() - revokedAt} ms`,
    );
  });
});
