// SGLang on a LeaderWorkerSet: its own multi-node launch, no Ray. Every pod of a group runs
// `python3 -m sglang.launch_server` with the same arguments; `--node-rank` (from LWS_WORKER_INDEX)
// tells them apart and `--dist-init-addr` (the leader's address) is where the group's torch.distributed
// ranks meet. Rank 0, the leader, serves HTTP; the other ranks serve nothing.
//
// Flags and semantics from SGLang's `python/sglang/srt/server_args.py` (plain argparse, so unique
// prefixes such as `--tp` for `--tp-size` are accepted) and the rank placement of its engine
// (`_calculate_rank_ranges`): pipeline stages are spread over the nodes, and a stage's tensor group
// over the nodes of that stage; world size = tp × pp. The pattern is upstream LWS's
// `docs/examples/sglang/lws.yaml`.

import type { FieldIssue } from '@troupe/common';
import type { RenderInput } from '../render';
import { kubeEscape } from '../shell';
import type { GroupSizing } from '../sizing';
import type { EngineDescriptor, OwnedFlag } from './engine';
import { modelPath } from './model-source';

/** SGLang's default HTTP port. */
export const SGLANG_PORT = 30000;
/** Port on the leader where the group's ranks initialise torch.distributed (`--dist-init-addr`). */
export const SGLANG_DIST_INIT_PORT = 20000;
export const SGLANG_LAUNCH_MODULE = 'sglang.launch_server';

export const SGLANG_OWNED_FLAGS: readonly OwnedFlag[] = [
  { names: ['--model-path', '--model'], why: 'the model comes from the service’s model version' },
  { names: ['--tp-size', '--tensor-parallel-size'], why: 'set it with parallelism.tensor' },
  { names: ['--pp-size', '--pipeline-parallel-size'], why: 'set it with parallelism.pipeline' },
  { names: ['--dp-size', '--data-parallel-size'], why: 'scale with replicas (one copy per group)' },
  { names: ['--nnodes'], why: 'the group size follows from parallelism and gpusPerNode' },
  { names: ['--node-rank'], why: 'each pod takes its rank from LWS_WORKER_INDEX' },
  {
    names: ['--dist-init-addr', '--nccl-init-addr'],
    why: 'the ranks of a group meet at their leader (LWS_LEADER_ADDRESS)',
  },
  { names: ['--port'], why: `the platform serves on port ${SGLANG_PORT}` },
  { names: ['--host'], why: 'the platform decides where SGLang listens' },
  { names: ['--served-model-name'], why: 'set it with servedModelName' },
  { names: ['--config'], why: 'a config file could override what the platform sets' },
];

/** SGLang flags that take no value (store_true) and do not start with --enable-/--disable-/--no-. */
const SGLANG_BOOLEAN_FLAGS: ReadonlySet<string> = new Set([
  '--trust-remote-code',
  '--skip-server-warmup',
  '--skip-tokenizer-init',
  '--is-embedding',
  '--log-requests',
  '--show-time-cost',
  '--allow-auto-truncate',
]);

/** `--dtype` choices of SGLang's server_args. */
export const SGLANG_DTYPES = ['auto', 'half', 'float16', 'bfloat16', 'float', 'float32'] as const;

/** Words the platform writes with a Kubernetes `$(VAR)` reference that must be expanded. */
const NODE_RANK = '$(LWS_WORKER_INDEX)';
const DIST_INIT_ADDR = `$(LWS_LEADER_ADDRESS):${SGLANG_DIST_INIT_PORT}`;

/**
 * The argv of every pod of a group, as SGLang receives it once Kubernetes expanded `$(LWS_*)`:
 * `--node-rank` and `--dist-init-addr` still hold the references here.
 */
export function sglangLaunchArgs(input: RenderInput, sizing: GroupSizing): string[] {
  const { service: s, weights: w } = input;
  const e = s.engine;
  const args = [
    'python3',
    '-m',
    SGLANG_LAUNCH_MODULE,
    '--model-path',
    modelPath(input),
    '--served-model-name',
    s.servedModelName,
    '--tp',
    String(s.parallelism.tensor),
  ];
  if (s.parallelism.pipeline > 1) args.push('--pp-size', String(s.parallelism.pipeline));
  args.push(
    '--nnodes',
    String(sizing.groupSize),
    '--node-rank',
    NODE_RANK,
    '--dist-init-addr',
    DIST_INIT_ADDR,
    '--host',
    '0.0.0.0',
    '--port',
    String(SGLANG_PORT),
    '--enable-metrics',
  );
  if (w.mode === 'streamer') args.push('--load-format', 'runai_streamer');
  if (e.maxModelLen !== undefined) args.push('--context-length', String(e.maxModelLen));
  if (e.dtype !== undefined) args.push('--dtype', e.dtype);
  if (e.gpuMemoryUtilization !== undefined)
    args.push('--mem-fraction-static', String(e.gpuMemoryUtilization));
  if (e.maxNumSeqs !== undefined) args.push('--max-running-requests', String(e.maxNumSeqs));
  args.push(...(e.extraArgs ?? []));
  return args;
}

/**
 * The container command: no shell, so no quoting; every word but the two `$(LWS_*)` references has
 * `$` doubled, so that Kubernetes' expansion cannot turn a user value such as `$(SECRET)` into
 * something else.
 */
export function sglangCommand(input: RenderInput, sizing: GroupSizing): string[] {
  return sglangLaunchArgs(input, sizing).map((w) =>
    w === NODE_RANK || w === DIST_INIT_ADDR ? w : kubeEscape(w),
  );
}

export interface SglangNodeSplit {
  /** Pipeline stages on each node. */
  stagesPerNode: number;
  /** Nodes one pipeline stage (and so one tensor group) spans. */
  nodesPerStage: number;
  /** Tensor ranks of a stage on each node. */
  tensorPerNode: number;
}

/**
 * How SGLang places the ranks of tp × pp over `nodes` nodes (its engine's rank ranges), or null when
 * they do not split evenly: stages over nodes (several stages per node, or several nodes per stage),
 * then each stage's tensor group over the nodes of that stage.
 */
export function sglangNodeSplit(tensor: number, pipeline: number, nodes: number): SglangNodeSplit | null {
  if (pipeline % nodes !== 0 && nodes % pipeline !== 0) return null;
  const stagesPerNode = Math.max(Math.floor(pipeline / nodes), 1);
  const nodesPerStage = Math.max(Math.floor(nodes / pipeline), 1);
  if (tensor % nodesPerStage !== 0) return null;
  const tensorPerNode = tensor / nodesPerStage;
  if (tensorPerNode * stagesPerNode * nodes !== tensor * pipeline) return null;
  return { stagesPerNode, nodesPerStage, tensorPerNode };
}

function sglangIssues(input: RenderInput, sizing: GroupSizing): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const { tensor, pipeline } = input.service.parallelism;
  const split = sglangNodeSplit(tensor, pipeline, sizing.groupSize);
  if (!split || split.tensorPerNode * split.stagesPerNode !== sizing.gpusPerPod) {
    issues.push({
      field: 'parallelism',
      message:
        `SGLang spreads pipeline stages over the nodes of a group and each stage's tensor group over the ` +
        `nodes of that stage; TP ${tensor} × PP ${pipeline} over ${sizing.groupSize} nodes of ` +
        `${sizing.gpusPerPod} GPUs does not split evenly: across nodes, use a tensor degree that is a ` +
        `multiple of the GPUs of a node, and a pipeline degree that divides the nodes or is a multiple of them`,
    });
  }
  if (sizing.groupSize > 1 && input.service.placement?.restartPolicy === 'None') {
    issues.push({
      field: 'placement.restartPolicy',
      message:
        'the pods of an SGLang group are ranks of one torch.distributed job, which a restarted pod cannot ' +
        'rejoin: the group must be recreated together (RecreateGroupOnPodRestart)',
    });
  }
  return issues;
}

export const SGLANG: EngineDescriptor = {
  kind: 'sglang',
  name: 'SGLang',
  httpPort: SGLANG_PORT,
  containers: { leader: 'sglang-leader', worker: 'sglang-worker' },
  dtypes: SGLANG_DTYPES,
  ownedFlags: SGLANG_OWNED_FLAGS,
  streamerOwnedFlags: [
    { names: ['--load-format'], why: 'weights are streamed from object storage (runai_streamer)' },
  ],
  booleanFlags: SGLANG_BOOLEAN_FLAGS,
  metrics: {
    // Scheduler gauges (`python/sglang/srt/metrics/collector.py`), labelled model_name, engine_type,
    // tp_rank, pp_rank and dp_rank with data parallelism.
    running: 'sglang:num_running_reqs',
    waiting: 'sglang:num_queue_reqs',
    kvCacheUsage: ['sglang:token_usage'],
    promptTokens: 'sglang:prompt_tokens_total',
    generationTokens: 'sglang:generation_tokens_total',
    replicaLabel: 'dp_rank',
  },
  issues: sglangIssues,
  leaderCommand: sglangCommand,
  workerCommand: sglangCommand,
};
