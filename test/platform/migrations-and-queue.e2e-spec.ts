import { randomBytes } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, checkDrift } from '../../libs/db/src/migrator';
import { createDatabaseIfMissing, dropDatabase } from '../../libs/testing/src';
import { startTestApp, TestApp } from '../support/app';

describe('migrations', () => {
  const admin = inject('adminDatabaseUrl');
  const name = `troupe_mig_${randomBytes(4).toString('hex')}`;
  const url = new URL(admin);
  url.pathname = `/${name}`;

  beforeAll(() => createDatabaseIfMissing(admin, name));
  afterAll(() => dropDatabase(admin, name));

  it('migrate an empty database up to the schema, then apply nothing twice', async () => {
    const applied = await applyMigrations(url.toString());
    expect(applied.length).toBeGreaterThan(0);
    const db = new Client({ connectionString: url.toString() });
    await db.connect();
    try {
      const { rows } = await db.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['_prisma_migrations', 'api_keys', 'projects']),
      );
      const { rows: done } = await db.query(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL',
      );
      expect(done.map((r) => r.migration_name).sort()).toEqual([...applied].sort());
    } finally {
      await db.end();
    }
    expect(await applyMigrations(url.toString())).toEqual([]);
  });

  it('schema.prisma has no change that a migration does not capture', async () => {
    const drift = await checkDrift(admin);
    expect(drift.sql).toBe('');
    expect(drift.drift).toBe(false);
  });
});

describe('worker role and queues', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('processes maintenance jobs: revoked keys past retention are pruned, others kept', async () => {
    const project = await t.call('POST', '/api/v1/projects', {
      key: t.adminKey,
      body: { name: `q-${randomBytes(3).toString('hex')}` },
    });
    const mk = async () =>
      (
        await t.call('POST', '/api/v1/api-keys', {
          key: t.adminKey,
          body: { name: 'k', role: 'inference', projectId: project.body.id },
        })
      ).body;
    const old = await mk();
    const recent = await mk();
    const live = await mk();
    await t.call('DELETE', `/api/v1/api-keys/${old.id}`, { key: t.adminKey });
    await t.call('DELETE', `/api/v1/api-keys/${recent.id}`, { key: t.adminKey });
    const db = new Client({ connectionString: inject('databaseUrl') });
    await db.connect();
    try {
      await db.query("UPDATE api_keys SET revoked_at = now() - interval '40 days' WHERE id = $1", [old.id]);
      const queue = t.app.get<Queue>(getQueueToken('maintenance'));
      const job = await queue.add('prune-revoked-keys', { retentionDays: 30 });
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && !(await job.isCompleted())) await new Promise((r) => setTimeout(r, 50));
      expect(await job.isCompleted()).toBe(true);
      const { rows } = await db.query('SELECT id FROM api_keys WHERE id = ANY($1)', [
        [old.id, recent.id, live.id],
      ]);
      expect(rows.map((r) => r.id).sort()).toEqual([recent.id, live.id].sort());
    } finally {
      await db.end();
    }
  });

  it('registers the periodic maintenance schedule', async () => {
    const queue = t.app.get<Queue>(getQueueToken('maintenance'));
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('prune-revoked-keys');
  });
});
