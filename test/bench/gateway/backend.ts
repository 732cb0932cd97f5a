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
