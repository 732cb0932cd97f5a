/**
 * Child process of the gateway benchmark: the backends, away from the load generator's event loop.
 *
 * Starts (1) one simulated vLLM engine (libs/engine-sim) with zero delays on 127.0.0.1, and (2) the
 * cluster simulator, whose leader pods run the same engine with zero token delays, writing its
 * kubeconfig to argv[2]. Prints one JSON line `{"engineUrl", "simUrl"}` on stdout when both listen,
 * then runs until SIGTERM or until its stdin closes (the parent went away).
 */
import { startEngine } from '@troupe/engine-sim';
import { startClusterSim } from '../../../apps/cluster-sim/src';

/**
 * Every cluster simulator hands out pod IPs from 127.0.1.1 up, and each leader's engine listens on
 * podIP:8000: with other simulators running on the machine (other benchmarks, e2e suites), this one's
 * engines can fail to listen (EADDRINUSE) and its pods never become ready. The simulator has no option
 * for where its pool starts, so the benchmark moves the pool's cursor (a private field) to a random
 * place in 127.10.0.0 - 127.89.255.255; if the field is gone, the default range is used.
 */
function spreadPodIps(sim: Awaited<ReturnType<typeof startClusterSim>>): void {
  const pool = (sim.kubelet as unknown as { ips?: { next?: unknown } }).ips;
  if (!pool || typeof pool.next !== 'number') {
    console.error('[backend] cannot move the pod IP pool: pod IPs start at 127.0.1.1');
    return;
  }
  const second = 10 + Math.floor(Math.random() * 80);
  const third = Math.floor(Math.random() * 256);
  pool.next = ((127 << 24) | (second << 16) | (third << 8) | 1) >>> 0;
}

async function main() {
  const kubeconfigPath = process.argv[2];
  if (!kubeconfigPath) throw new Error('usage: backend.ts <kubeconfig path>');
  const engine = await startEngine({
    host: '127.0.0.1',
    port: 0,
    model: 'bench',
    tpotMs: 0,
    ttftMs: 0,
    prefillMsPerToken: 0,
  });
  const sim = await startClusterSim({
    kubeconfigPath,
    nodes: 2,
    gpusPerNode: 8,
    racks: 1,
    engineTpotMs: 0,
    engineTtftMs: 0,
  });
  spreadPodIps(sim);
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await Promise.allSettled([engine.close(), sim.close()]);
    process.exit(0);
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
  process.stdin.on('end', close);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ engineUrl: engine.url, simUrl: sim.url })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
