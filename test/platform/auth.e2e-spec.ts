import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, TestApp } from '../support/app';

const unique = (p: string) => `${p}-${randomBytes(3).toString('hex')}`;

describe('projects, API keys and roles', () => {
  let t: TestApp;
  let projectA: { id: string; name: string };
  let projectB: { id: string; name: string };
  let memberA: string;
  let inferenceA: string;
  let memberB: string;
  let memberAKeyId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const a = await t.call('POST', '/api/v1/projects', {
      key: t.adminKey,
      body: { name: unique('team-a'), displayName: 'Team A' },
    });
    const b = await t.call('POST', '/api/v1/projects', { key: t.adminKey, body: { name: unique('team-b') } });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    projectA = a.body;
    projectB = b.body;
    const mk = async (role: string, projectId: string) => {
      const r = await t.call('POST', '/api/v1/api-keys', {
        key: t.adminKey,
        body: { name: `${role} key`, role, projectId },
      });
      expect(r.status).toBe(201);
      return r.body;
    };
    const ma = await mk('member', projectA.id);
    memberA = ma.key;
    memberAKeyId = ma.id;
    inferenceA = (await mk('inference', projectA.id)).key;
    memberB = (await mk('member', projectB.id)).key;
  });
  afterAll(() => t.close());

  describe('authentication', () => {
    it('401 without a key', async () => {
      const r = await t.call('GET', '/api/v1/projects');
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthenticated');
    });

    it.each([
      ['garbage', 'not-a-key'],
      ['well-formed unknown key', `troupe_${randomBytes(32).toString('base64url')}`],
    ])('401 with a %s', async (_, key) => {
      expect((await t.call('GET', '/api/v1/projects', { key })).status).toBe(401);
    });

    it('401 for a known prefix with a wrong secret', async () => {
      const forged =
        memberA.slice(0, 15) +
        randomBytes(27)
          .toString('base64url')
          .slice(0, memberA.length - 15);
      expect(forged.slice(0, 15)).toBe(memberA.slice(0, 15));
      expect((await t.call('GET', '/api/v1/projects', { key: forged })).status).toBe(401);
    });

    it('401 for an expired key', async () => {
      const created = await t.call('POST', '/api/v1/api-keys', {
        key: t.adminKey,
        body: {
          name: 'short-lived',
          role: 'member',
          projectId: projectA.id,
          expiresAt: new Date(Date.now() + 1500).toISOString(),
        },
      });
      expect(created.status).toBe(201);
      expect((await t.call('GET', '/api/v1/projects', { key: created.body.key })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1600));
      expect((await t.call('GET', '/api/v1/projects', { key: created.body.key })).status).toBe(401);
    });

    it('answers 401 on /v1 in the OpenAI error shape', async () => {
      const r = await t.call('GET', '/v1/models', { key: 'troupe_nope' });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({
        error: {
          message: expect.any(String),
          type: 'authentication_error',
          param: null,
          code: 'unauthenticated',
        },
      });
    });
  });

  describe('keys', () => {
    it('shows the key once, stores only its sha256, and lists keys without secrets', async () => {
      const created = await t.call('POST', '/api/v1/api-keys', {
        key: t.adminKey,
        body: { name: 'ci', role: 'inference', projectId: projectA.id },
      });
      expect(created.body.key).toMatch(/^troupe_[A-Za-z0-9_-]{43}$/);
      expect(created.body.prefix).toBe(created.body.key.slice(0, 15));

      const list = await t.call('GET', '/api/v1/api-keys', { key: t.adminKey });
      expect(list.text).not.toContain(created.body.key);
      expect(list.body.data.find((k: { id: string }) => k.id === created.body.id)).toMatchObject({
        name: 'ci',
        role: 'inference',
        projectId: projectA.id,
      });
      const one = await t.call('GET', `/api/v1/api-keys/${created.body.id}`, { key: t.adminKey });
      expect(one.body.key).toBeUndefined();

      const db = new Client({ connectionString: inject('databaseUrl') });
      await db.connect();
      try {
        const { rows } = await db.query('SELECT * FROM api_keys WHERE id = $1', [created.body.id]);
        expect(JSON.stringify(rows)).not.toContain(created.body.key.slice(15));
        const { createHash } = await import('node:crypto');
        expect(rows[0].hash).toBe(createHash('sha256').update(created.body.key).digest('hex'));
      } finally {
        await db.end();
      }
    });

    it('revocation takes effect at once and is idempotent', async () => {
      const created = await t.call('POST', '/api/v1/api-keys', {
        key: memberA,
        body: { name: 'temp', role: 'inference' },
      });
      expect(created.status).toBe(201);
      expect(created.body.projectId).toBe(projectA.id);
      expect((await t.call('GET', '/v1/models', { key: created.body.key })).status).toBe(200);
      expect((await t.call('DELETE', `/api/v1/api-keys/${created.body.id}`, { key: memberA })).status).toBe(
        204,
      );
      expect((await t.call('GET', '/v1/models', { key: created.body.key })).status).toBe(401);
      expect((await t.call('DELETE', `/api/v1/api-keys/${created.body.id}`, { key: memberA })).status).toBe(
        204,
      );
      const shown = await t.call('GET', `/api/v1/api-keys/${created.body.id}`, { key: memberA });
      expect(shown.body.revokedAt).not.toBeNull();
    });

    it('revocation reaches other server processes through Redis', async () => {
      const other = await startTestApp({ DATABASE_URL: t.config.database.url, AUTH_CACHE_TTL_MS: '600000' });
      try {
        const created = await t.call('POST', '/api/v1/api-keys', {
          key: t.adminKey,
          body: { name: 'shared', role: 'inference', projectId: projectA.id },
        });
        // the other process caches the key for 10 minutes...
        expect((await other.call('GET', '/v1/models', { key: created.body.key })).status).toBe(200);
        expect(
          (await t.call('DELETE', `/api/v1/api-keys/${created.body.id}`, { key: t.adminKey })).status,
        ).toBe(204);
        // ...yet refuses it as soon as the revocation is announced.
        const deadline = Date.now() + 2000;
        let status = 200;
        while (Date.now() < deadline && status === 200) {
          status = (await other.call('GET', '/v1/models', { key: created.body.key })).status;
          if (status === 200) await new Promise((r) => setTimeout(r, 20));
        }
        expect(status).toBe(401);
      } finally {
        await other.close();
      }
    });

    it('validates input and names the field', async () => {
      const r = await t.call('POST', '/api/v1/api-keys', {
        key: t.adminKey,
        body: { name: '', role: 'root', projectId: 'x' },
      });
      expect(r.status).toBe(400);
      expect(r.body.error.issues.map((i: { field: string }) => i.field).sort()).toEqual([
        'name',
        'projectId',
        'role',
      ]);
      const admin = await t.call('POST', '/api/v1/api-keys', {
        key: t.adminKey,
        body: { name: 'a', role: 'admin', projectId: projectA.id },
      });
      expect(admin.status).toBe(400);
      expect(admin.body.error.issues[0].field).toBe('projectId');
      const noProject = await t.call('POST', '/api/v1/api-keys', {
        key: t.adminKey,
        body: { name: 'a', role: 'member' },
      });
      expect(noProject.status).toBe(400);
      const past = await t.call('POST', '/api/v1/api-keys', {
        key: memberA,
        body: { name: 'a', role: 'member', expiresAt: '2001-01-01T00:00:00Z' },
      });
      expect(past.status).toBe(400);
      expect(past.body.error.issues[0].field).toBe('expiresAt');
    });

    it('admins can create admin keys that work', async () => {
      const r = await t.call('POST', '/api/v1/api-keys', {
        key: t.adminKey,
        body: { name: 'ops', role: 'admin' },
      });
      expect(r.status).toBe(201);
      expect(r.body.projectId).toBeNull();
      expect((await t.call('GET', `/api/v1/projects/${projectB.id}`, { key: r.body.key })).status).toBe(200);
    });
  });

  describe('roles', () => {
    it('inference keys may not use the management API (403) but may use /v1', async () => {
      const r = await t.call('GET', '/api/v1/projects', { key: inferenceA });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
      expect(
        (
          await t.call('POST', '/api/v1/api-keys', {
            key: inferenceA,
            body: { name: 'x', role: 'inference' },
          })
        ).status,
      ).toBe(403);
      const models = await t.call('GET', '/v1/models', { key: inferenceA });
      expect(models.status).toBe(200);
      expect(models.body).toEqual({ object: 'list', data: [] });
    });

    it('members may not create projects or admin keys (403)', async () => {
      expect(
        (await t.call('POST', '/api/v1/projects', { key: memberA, body: { name: unique('mine') } })).status,
      ).toBe(403);
      expect(
        (await t.call('POST', '/api/v1/api-keys', { key: memberA, body: { name: 'x', role: 'admin' } }))
          .status,
      ).toBe(403);
    });

    it('members see only their own project', async () => {
      const r = await t.call('GET', '/api/v1/projects', { key: memberA });
      expect(r.status).toBe(200);
      expect(r.body.data.map((p: { id: string }) => p.id)).toEqual([projectA.id]);
      const keys = await t.call('GET', '/api/v1/api-keys', { key: memberA });
      expect(new Set(keys.body.data.map((k: { projectId: string }) => k.projectId))).toEqual(
        new Set([projectA.id]),
      );
    });

    it("another project's objects answer 404, exactly like objects that do not exist", async () => {
      const cross = await t.call('GET', `/api/v1/projects/${projectA.id}`, { key: memberB });
      const missing = await t.call('GET', '/api/v1/projects/00000000-0000-4000-8000-000000000000', {
        key: memberB,
      });
      expect(cross.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(cross.body.error.message).toBe(missing.body.error.message);

      expect((await t.call('GET', `/api/v1/api-keys/${memberAKeyId}`, { key: memberB })).status).toBe(404);
      expect((await t.call('DELETE', `/api/v1/api-keys/${memberAKeyId}`, { key: memberB })).status).toBe(404);
      // and the key was not revoked by the attempt
      expect((await t.call('GET', '/api/v1/projects', { key: memberA })).status).toBe(200);

      const intoOther = await t.call('POST', '/api/v1/api-keys', {
        key: memberB,
        body: { name: 'x', role: 'inference', projectId: projectA.id },
      });
      expect(intoOther.status).toBe(404);
    });

    it('project names are unique and validated', async () => {
      const dup = await t.call('POST', '/api/v1/projects', {
        key: t.adminKey,
        body: { name: projectA.name },
      });
      expect(dup.status).toBe(409);
      const bad = await t.call('POST', '/api/v1/projects', {
        key: t.adminKey,
        body: { name: 'Not_A_DNS_Label' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues[0].field).toBe('name');
      const extra = await t.call('POST', '/api/v1/projects', {
        key: t.adminKey,
        body: { name: unique('ok'), owner: 'me' },
      });
      expect(extra.status).toBe(400);
    });
  });
});
