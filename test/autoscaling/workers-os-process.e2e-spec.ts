import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parsePrometheusText } from '@troupe/core';
import { applyMigrations } from '../../libs/db/src/migrator';
import { createDatabaseIfMissing, dropDatabase } from '../../libs/testing/src';
import { startTestCluster, TestCluster } from '../support/cluster';
import { startServerProcess, ServerProcess } from '../support/server-process';

/**
 * Two worker processes, each its own OS process run from the sources, contend for the autoscaler's
 * lease in Redis: exactly one acts; killed with SIGKILL (no release, as in a crash), the other takes
 * over once the lease's TTL has passed. They share a database of their own, so that they act on no
 * other test's services.
 */
describe('autoscaler workers in separate OS processes', () => {
  let cluster: TestCluster & { stop(): Promise<void> };
  const workers: ServerProcess[] = [];
  const dbName = `troupe_workers_${randomBytes(4).toString('hex')}`;
  const adminUrl = inject('adminDatabaseUrl');
  const dbUrl = (() => {
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    return u.toString();
  })();
  const LEASE_TTL_MS = 2_000;

  const leader = async (w: ServerProcess): Promise<number | undefined> => {
    const text = await fetch(`${w.url}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    return parsePrometheusText(text).find((s) => s.name === 'troupe_autoscaler_leader')?.value;
  };
  const leaders = async () => Promise.all(workers.map(leader));

  beforeAll(async () => {
    await createDatabaseIfMissing(adminUrl, dbName);
    await applyMigrations(dbUrl);
    cluster = await startTestCluster({ nodes: 1, keepServices: true });
    const env = {
      DATABASE_URL: dbUrl,
      ROLES: 'worker',
      KUBECONFIG: cluster.kubeconfigFile,
      KUBE_NAMESPACE: 'troupe-workers',
      QUEUE_PREFIX: `troupe-workers-${randomBytes(3).toString('hex')}`,
      AUTOSCALER_TICK_MS: '200',
      AUTOSCALER_LEASE_TTL_MS: String(LEASE_TTL_MS),
    };
    workers.push(...(await Promise.all([startServerProcess(env), startServerProcess(env)])));
  });
  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await cluster?.stop();
    await dropDatabase(adminUrl, dbName).catch(() => undefined);
  });

  it('one actor at a time; a killed actor is replaced after the lease TTL', async () => {
    // Several renewal periods: at every look exactly one process leads.
    const deadline = Date.now() + 2 * LEASE_TTL_MS;
    let looks = 0;
    let first = -1;
    while (Date.now() < deadline) {
      const now = await leaders();
      if (now.some((v) => v === 1)) {
        expect(now.filter((v) => v === 1)).toHaveLength(1);
        if (first === -1) first = now.indexOf(1);
        expect(now.indexOf(1)).toBe(first); // no flapping between the two
        looks++;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(looks).toBeGreaterThan(5);

    const actor = workers[first];
    const other = workers[1 - first];
    process.kill(actor.pid, 'SIGKILL');
    const killedAt = Date.now();
    for (;;) {
      if ((await leader(other)) === 1) break;
      if (Date.now() - killedAt > 4 * LEASE_TTL_MS) throw new Error('the other worker never took over');
      await new Promise((r) => setTimeout(r, 50));
    }
    const tookMs = Date.now() - killedAt;
    console.log(
      `[autoscaling e2e] lease taken over ${tookMs} ms after the actor was killed (TTL ${LEASE_TTL_MS} ms)`,
    );
    // Not before the dead actor's lease could have expired: it was never released.
    expect(tookMs).toBeGreaterThan(LEASE_TTL_MS / 3);
  });
});
