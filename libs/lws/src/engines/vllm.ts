// vLLM on a LeaderWorkerSet: a Ray cluster per group. The leader starts the Ray head, waits until
// every pod of the group has joined, then execs `vllm serve` with the Ray executor; workers join the
// head and block. Only the leader serves HTTP.

import type { RenderInput } from '../render';
import { commandWord } from '../shell';
import type { EngineDescriptor, OwnedFlag } from './engine';
import { modelPath } from './model-source';

export const VLLM_PORT = 8000;
export const RAY_PORT = 6379;
/** How long the leader waits for all the group's nodes to join the Ray cluster before it gives up. */
export const RAY_WAIT_SECONDS = 1800;

/** Flags the platform sets itself; users may not pass them in extraArgs. */
export const VLLM_OWNED_FLAGS: readonly OwnedFlag[] = [
  { names: ['--tensor-parallel-size', '-tp'], why: 'set it with parallelism.tensor' },
  { names: ['--pipeline-parallel-size', '-pp'], why: 'set it with parallelism.pipeline' },
  { names: ['--data-parallel-size', '-dp'], why: 'scale with replicas (one data-parallel copy per group)' },
  { names: ['--port'], why: 'the platform serves on port 8000' },
  { names: ['--host'], why: 'the platform decides where vLLM listens' },
  { names: ['--served-model-name'], why: 'set it with servedModelName' },
  { names: ['--model'], why: 'the model comes from the service’s model version' },
  { names: ['--distributed-executor-backend'], why: 'multi-node groups run on Ray' },
  { names: ['--config'], why: 'a config file could override what the platform sets' },
];

/** vLLM flags that take no value (besides --enable-*, --disable-*, --no-*). */
const VLLM_BOOLEAN_FLAGS: ReadonlySet<string> = new Set([
  '--enforce-eager',
  '--trust-remote-code',
  '--headless',
  '--async-scheduling',
  '--skip-tokenizer-init',
  '--return-tokens-as-token-ids',
  '--fully-sharded-loras',
  '--allow-credentials',
]);

export const VLLM_DTYPES = ['auto', 'half', 'float16', 'bfloat16', 'float', 'float32'] as const;

/** The leader waits (with a deadline) until LWS_GROUP_SIZE nodes are alive in the Ray cluster. */
const WAIT_FOR_RAY_NODES = [
  'import os, sys, time, ray',
  'want = int(os.environ.get("LWS_GROUP_SIZE", "1"))',
  `deadline = time.time() + ${RAY_WAIT_SECONDS}`,
  'ray.init(address="auto", logging_level="ERROR")',
  'while True:',
  '    alive = sum(1 for n in ray.nodes() if n["Alive"])',
  '    if alive >= want:',
  '        print("Ray cluster has %d/%d nodes" % (alive, want), flush=True)',
  '        break',
  '    if time.time() > deadline:',
  `        sys.exit("Ray cluster has %d/%d nodes after ${RAY_WAIT_SECONDS} s, giving up" % (alive, want))`,
  '    print("waiting for Ray workers: %d/%d nodes" % (alive, want), flush=True)',
  '    time.sleep(5)',
].join('\n');

/** The `vllm serve` argv (unquoted). */
export function vllmServeArgs(input: RenderInput): string[] {
  const { service: s, weights: w } = input;
  const e = s.engine;
  const args = [
    'vllm',
    'serve',
    modelPath(input),
    '--served-model-name',
    s.servedModelName,
    '--tensor-parallel-size',
    String(s.parallelism.tensor),
    '--pipeline-parallel-size',
    String(s.parallelism.pipeline),
    '--distributed-executor-backend',
    'ray',
    '--port',
    String(VLLM_PORT),
  ];
  if (w.mode === 'streamer') args.push('--load-format', 'runai_streamer');
  if (e.maxModelLen !== undefined) args.push('--max-model-len', String(e.maxModelLen));
  if (e.dtype !== undefined) args.push('--dtype', e.dtype);
  if (e.gpuMemoryUtilization !== undefined)
    args.push('--gpu-memory-utilization', String(e.gpuMemoryUtilization));
  if (e.maxNumSeqs !== undefined) args.push('--max-num-seqs', String(e.maxNumSeqs));
  args.push(...(e.extraArgs ?? []));
  return args;
}

/** Leader: Ray head, wait for the group's nodes, then vLLM's OpenAI server (exec: it gets the signals). */
export function leaderScript(input: RenderInput): string {
  return [
    'set -e',
    // The dashboard (which accepts job submissions) listens on localhost only.
    `ray start --head --port=${RAY_PORT} --dashboard-host=127.0.0.1 --disable-usage-stats`,
    `python3 -c '${WAIT_FOR_RAY_NODES}'`,
    `exec ${vllmServeArgs(input).map(commandWord).join(' ')}`,
  ].join('\n');
}

/** Worker: wait for the leader's Ray head, then join it and block. `$(VAR)` is Kubernetes expansion. */
export function workerScript(): string {
  const head = `$(LWS_LEADER_ADDRESS):${RAY_PORT}`;
  return [
    `until ray health-check --address=${head} >/dev/null 2>&1; do echo "waiting for the Ray head at ${head}"; sleep 5; done`,
    `exec ray start --address=${head} --block --disable-usage-stats`,
  ].join('\n');
}

export const VLLM: EngineDescriptor = {
  kind: 'vllm',
  name: 'vLLM',
  httpPort: VLLM_PORT,
  containers: { leader: 'vllm-leader', worker: 'vllm-worker' },
  dtypes: VLLM_DTYPES,
  ownedFlags: VLLM_OWNED_FLAGS,
  streamerOwnedFlags: [
    { names: ['--load-format'], why: 'weights are streamed from object storage (runai_streamer)' },
  ],
  booleanFlags: VLLM_BOOLEAN_FLAGS,
  metrics: {
    running: 'vllm:num_requests_running',
    waiting: 'vllm:num_requests_waiting',
    kvCacheUsage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
    promptTokens: 'vllm:prompt_tokens_total',
    generationTokens: 'vllm:generation_tokens_total',
    // One series per engine core (data parallelism): each is a replica of its own.
  },
  issues: () => [],
  leaderCommand: (input) => ['/bin/sh', '-c', leaderScript(input)],
  workerCommand: () => ['/bin/sh', '-c', workerScript()],
};
