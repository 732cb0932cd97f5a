import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { inject } from 'vitest';
import { startClusterSim } from '../../apps/cluster-sim/src';

export type TestCluster = Awaited<ReturnType<typeof startClusterSim>> & {
  kubeconfigFile: string;
  sim(method: string, p: string, body?: unknown): Promise<Response>;
};

/**
 * The cluster simulator in-process, with its kubeconfig in a temp file for the server under test.
 *
 * e2e files share one database. Services an earlier file left live (its cluster is gone) would be
 * re-applied into this new cluster by the worker's resync and take its GPUs, so they are marked
 * DELETED first — unless `keepServices` (a file that brings up a cluster for services it made).
 */
export async function startTestCluster(
  options: Parameters<typeof startClusterSim>[0] & { keepServices?: boolean } = {},
): Promise<TestCluster & { stop(): Promise<void> }> {
  const { keepServices, ...simOptions } = options;
  if (!keepServices) await retireLiveServices();
  const dir = mkdtempSync(path.join(tmpdir(), 'troupe-sim-'));
  const kubeconfigFile = path.join(dir, 'kubeconfig.yaml');
  const sim = await startClusterSim({
    kubeconfigPath: kubeconfigFile,
    nodes: 4,
    gpusPerNode: 8,
    racks: 2,
    ...simOptions,
  });
  return Object.assign(sim, {
    kubeconfigFile,
    sim: (method: string, p: string, body?: unknown) =>
      fetch(`${sim.url}${p}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    async stop() {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

async function retireLiveServices(): Promise<void> {
  const db = new Client({ connectionString: inject('databaseUrl') });
  await db.connect();
  try {
    await db.query(
      `UPDATE inference_services
          SET phase = 'DELETED', deleted_at = COALESCE(deleted_at, now()),
              phase_reason = 'retired by the e2e harness: its cluster is gone'
        WHERE phase <> 'DELETED'`,
    );
  } finally {
    await db.end();
  }
}
