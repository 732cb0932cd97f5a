// The agent's command line (pure): flags to NodeAgentOptions.

import { parseArgs } from 'node:util';
import type { NodeAgentOptions } from './agent';

export const USAGE = `Usage: npm run node-agent -- --kubeconfig <file> [options]
Registers GPU nodes on the API server and runs their pods (simulated vLLM engines on 127.x pod IPs).
Prints the admin URL (the /sim fault API) on stdout once the nodes are registered; logs go to stderr.
  --kubeconfig <file>          kubeconfig of the API server (required; default $KUBECONFIG)
  --nodes <n>                  nodes <prefix>0 … (default 8)
  --node-name-prefix <p>       node name prefix (default node-)
  --gpus-per-node <n>          nvidia.com/gpu per node (default 8)
  --racks <n>                  topology domains (default 2)
  --topology-key <key>         node label for racks (default rack)
  --cpu-per-node <n>           cpu capacity (default 96)
  --memory-gi-per-node <n>     memory capacity in Gi (default 1024)
  --max-pods-per-node <n>      pods capacity (default 110)
  --gpu-product <name>         nvidia.com/gpu.product label (default NVIDIA-H100-80GB-HBM3)
  --pod-start-ms <ms>          scheduled -> Running (default 200)
  --pod-ready-ms <ms>          Running -> Ready (default 500)
  --probe-period-ms <ms>       engine readiness probe period (default 200)
  --engine-max-seqs <n>        default max_num_seqs of simulated engines
  --engine-tpot-ms <ms>        default time per output token
  --engine-ttft-ms <ms>        default time to first token
  --engine-kv-cache-tokens <n> default KV-cache capacity in tokens
  --no-engines                 do not start simulated vLLM engines
  --pod-ip-start <ip>          first pod IP (default: a random 127.x.y.1)
  --admin-port <n>             admin API port on 127.0.0.1 (default 0: a free port)
  --lease-renew-ms <ms>        node lease renewal period (default 10000)
  --node-status-ms <ms>        node status refresh period (default 60000)
  --delete-nodes-on-exit       delete the Node objects on SIGINT / SIGTERM (default: leave them)`;

export type ParsedArgs =
  { kind: 'help' } | { kind: 'error'; message: string } | { kind: 'run'; options: NodeAgentOptions };

const NUMBER_FLAGS = {
  nodes: 'nodes',
  'gpus-per-node': 'gpusPerNode',
  racks: 'racks',
  'cpu-per-node': 'cpuPerNode',
  'memory-gi-per-node': 'memoryGiPerNode',
  'max-pods-per-node': 'maxPodsPerNode',
  'pod-start-ms': 'podStartMs',
  'pod-ready-ms': 'podReadyMs',
  'probe-period-ms': 'probePeriodMs',
  'engine-max-seqs': 'engineMaxSeqs',
  'engine-tpot-ms': 'engineTpotMs',
  'engine-ttft-ms': 'engineTtftMs',
  'engine-kv-cache-tokens': 'engineKvCacheTokens',
  'admin-port': 'adminPort',
  'lease-renew-ms': 'leaseRenewMs',
  'node-status-ms': 'nodeStatusRefreshMs',
} as const satisfies Record<string, keyof NodeAgentOptions>;

const CLI_DEFAULTS: Partial<NodeAgentOptions> = { podStartMs: 200, podReadyMs: 500, probePeriodMs: 200 };

export function parseAgentArgs(argv: string[], env: { KUBECONFIG?: string } = {}): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        'node-name-prefix': { type: 'string' },
        'topology-key': { type: 'string' },
        'gpu-product': { type: 'string' },
        'pod-ip-start': { type: 'string' },
        'no-engines': { type: 'boolean' },
        'delete-nodes-on-exit': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.keys(NUMBER_FLAGS).map((k) => [k, { type: 'string' as const }])),
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const kubeconfig = typeof values.kubeconfig === 'string' ? values.kubeconfig : env.KUBECONFIG;
  if (!kubeconfig) return { kind: 'error', message: '--kubeconfig is required (or set KUBECONFIG)' };
  const options: NodeAgentOptions = { ...CLI_DEFAULTS, kubeconfigPath: kubeconfig };
  for (const [flag, key] of Object.entries(NUMBER_FLAGS)) {
    const v = values[flag];
    if (typeof v !== 'string') continue;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0)
      return { kind: 'error', message: `--${flag} must be a non-negative number, not ${JSON.stringify(v)}` };
    options[key] = n;
  }
  if (options.nodes !== undefined && !Number.isInteger(options.nodes))
    return { kind: 'error', message: '--nodes must be a whole number' };
  const str = (flag: string): string | undefined =>
    typeof values[flag] === 'string' ? (values[flag] as string) : undefined;
  if (str('node-name-prefix') !== undefined) options.nodeNamePrefix = str('node-name-prefix');
  if (str('topology-key') !== undefined) options.topologyKey = str('topology-key');
  if (str('gpu-product') !== undefined) options.gpuProduct = str('gpu-product');
  if (str('pod-ip-start') !== undefined) options.podIpStart = str('pod-ip-start');
  if (values['no-engines']) options.engines = false;
  if (values['delete-nodes-on-exit']) options.deleteNodesOnStop = true;
  return { kind: 'run', options };
}
