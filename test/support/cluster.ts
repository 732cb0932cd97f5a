import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startClusterSim } from '../../apps/cluster-sim/src';

export type TestCluster = Awaited<ReturnType<typeof startClusterSim>> & {
  kubeconfigFile: string;
  sim(method: string, p: string, body?: unknown): Promise<Response>;
};

/** The cluster simulator in-process, with its kubeconfig in a temp file for the server under test. */
export async function startTestCluster(
  options: Parameters<typeof startClusterSim>[0] = {},
): Promise<TestCluster & { stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'troupe-sim-'));
  const kubeconfigFile = path.join(dir, 'kubeconfig.yaml');
  const sim = await startClusterSim({
    kubeconfigPath: kubeconfigFile,
    nodes: 4,
    gpusPerNode: 8,
    racks: 2,
    ...options,
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
