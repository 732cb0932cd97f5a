// CLI: npm run sim -- --kubeconfig <file> [--port 0] [--host 127.0.0.1] [--nodes 8] [--gpus-per-node 8]
//      [--racks 2] [--topology-key rack] [--pod-start-ms 200] [--pod-ready-ms 500] [--engine-max-seqs N]
//      [--engine-tpot-ms N] [--engine-ttft-ms N] [--no-engines] [--graceful-pod-deletion] [--crd <file>]
//      [--quiet]

import { parseArgs } from 'node:util';
import { startClusterSim } from './sim';

const USAGE = `Usage: npm run sim -- --kubeconfig <file> [options]
  --kubeconfig <file>       where to write the kubeconfig (required)
  --port <n>                API port (default 0: a free port)
  --host <addr>             listen address (default 127.0.0.1)
  --nodes <n>               simulated nodes (default 8; 0: nodes come from a node agent)
  --gpus-per-node <n>       nvidia.com/gpu per node (default 8)
  --racks <n>               topology domains (default 2)
  --topology-key <key>      node label for racks (default rack)
  --max-pods-per-node <n>   node pod capacity (default 110)
  --pod-start-ms <ms>       scheduled -> Running (default 200)
  --pod-ready-ms <ms>       Running -> Ready (default 500)
  --probe-period-ms <ms>    engine readiness probe period (default 200)
  --engine-max-seqs <n>     default max_num_seqs of simulated engines
  --engine-tpot-ms <ms>     default time per output token
  --engine-ttft-ms <ms>     default time to first token
  --no-engines              do not start simulated vLLM engines
  --graceful-pod-deletion   delete bound pods as a real API server (terminating until the kubelet confirms)
  --crd <file>              LWS CRD to validate against (default: ../shared/reference when present)
  --quiet                   do not print the kubeconfig`;

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      nodes: { type: 'string' },
      'gpus-per-node': { type: 'string' },
      racks: { type: 'string' },
      'topology-key': { type: 'string' },
      'max-pods-per-node': { type: 'string' },
      'pod-start-ms': { type: 'string' },
      'pod-ready-ms': { type: 'string' },
      'probe-period-ms': { type: 'string' },
      'engine-max-seqs': { type: 'string' },
      'engine-tpot-ms': { type: 'string' },
      'engine-ttft-ms': { type: 'string' },
      'no-engines': { type: 'boolean' },
      'graceful-pod-deletion': { type: 'boolean' },
      crd: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help || !values.kubeconfig) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const sim = await startClusterSim({
    kubeconfigPath: values.kubeconfig,
    port: num(values.port, 'port') ?? 0,
    host: values.host ?? '127.0.0.1',
    nodes: num(values.nodes, 'nodes'),
    gpusPerNode: num(values['gpus-per-node'], 'gpus-per-node'),
    racks: num(values.racks, 'racks'),
    topologyKey: values['topology-key'],
    maxPodsPerNode: num(values['max-pods-per-node'], 'max-pods-per-node'),
    podStartMs: num(values['pod-start-ms'], 'pod-start-ms') ?? 200,
    podReadyMs: num(values['pod-ready-ms'], 'pod-ready-ms') ?? 500,
    probePeriodMs: num(values['probe-period-ms'], 'probe-period-ms') ?? 200,
    engineMaxSeqs: num(values['engine-max-seqs'], 'engine-max-seqs'),
    engineTpotMs: num(values['engine-tpot-ms'], 'engine-tpot-ms'),
    engineTtftMs: num(values['engine-ttft-ms'], 'engine-ttft-ms'),
    engines: !values['no-engines'],
    gracefulPodDeletion: values['graceful-pod-deletion'] ?? false,
    crdPath: values.crd,
    log: (m) => process.stderr.write(`[cluster-sim] ${m}\n`),
  });
  process.stderr.write(`[cluster-sim] Kubernetes API on ${sim.url} (LWS schema: ${sim.crdSource})\n`);
  process.stderr.write(`[cluster-sim] kubeconfig written to ${values.kubeconfig}\n`);
  if (!values.quiet) process.stdout.write(sim.kubeconfig);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[cluster-sim] ${signal}: stopping\n`);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`[cluster-sim] ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
