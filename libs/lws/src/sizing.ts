// Group sizing (tensor × pipeline over nodes) and layout proposals from model and GPU memory. Pure.

import type { FieldIssue } from '@troupe/common';

const GiB = 1024 ** 3;

// ---------------------------------------------------------------------------------------------------
// sizeGroup

export interface GroupSpec {
  /** vLLM --tensor-parallel-size. */
  tensor: number;
  /** vLLM --pipeline-parallel-size. */
  pipeline: number;
  /** GPUs on each node (and so the most one pod can use). */
  gpusPerNode: number;
  /** Tensor parallelism may span nodes (all-reduce over the network: slow). Off unless asked. */
  allowTensorAcrossNodes?: boolean;
  /** When known (the model's config.json): tensor must divide it. */
  numAttentionHeads?: number;
  /** When known: pipeline may not exceed it. */
  numLayers?: number;
}

export interface GroupSizing {
  /** LWS leaderWorkerTemplate.size: pods (= nodes) per group, the leader included. */
  groupSize: number;
  /** tensor × pipeline. */
  gpusPerGroup: number;
  /** GPUs each pod asks for: gpusPerNode, or tensor × pipeline when the group fits in part of a node. */
  gpusPerPod: number;
}

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;

/** Largest tensor or pipeline degree accepted: far above any real deployment, small enough to be safe. */
export const MAX_PARALLELISM = 1024;

function divisors(n: number, max: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= Math.min(n, max); d++) if (n % d === 0) out.push(d);
  return out;
}

/**
 * Pods per group for a tensor × pipeline layout on nodes of `gpusPerNode` GPUs.
 *
 * - A group larger than one node uses whole nodes: tensor × pipeline must be a multiple of gpusPerNode,
 *   and each pod (one per node) gets gpusPerNode GPUs. groupSize = tensor × pipeline / gpusPerNode.
 * - A group smaller than one node (tensor × pipeline < gpusPerNode) is allowed: one pod asking for
 *   tensor × pipeline GPUs, so that several small groups can share a node.
 * - Tensor parallelism stays inside a node unless `allowTensorAcrossNodes` says otherwise: a tensor
 *   degree above gpusPerNode, or one that does not divide gpusPerNode in a multi-node group, would put
 *   one tensor-parallel group on two nodes.
 *
 * Returns the sizing, or the issues (fields `parallelism.tensor`, `parallelism.pipeline`,
 * `parallelism`, `gpusPerNode`).
 */
export function sizeGroup(spec: GroupSpec): GroupSizing | FieldIssue[] {
  const issues: FieldIssue[] = [];
  const { tensor, pipeline, gpusPerNode } = spec;
  const checkInt = (field: string, v: unknown, max: number): void => {
    if (!isPositiveInt(v)) issues.push({ field, message: 'must be a positive integer' });
    else if (v > max) issues.push({ field, message: `must be at most ${max}` });
  };
  checkInt('parallelism.tensor', tensor, MAX_PARALLELISM);
  checkInt('parallelism.pipeline', pipeline, MAX_PARALLELISM);
  checkInt('gpusPerNode', gpusPerNode, 64);
  if (issues.length) return issues;

  const heads = spec.numAttentionHeads;
  if (isPositiveInt(heads) && heads % tensor !== 0) {
    const options = divisors(heads, Math.max(gpusPerNode, 16)).join(', ');
    issues.push({
      field: 'parallelism.tensor',
      message: `tensor parallel size ${tensor} must divide the model's ${heads} attention heads (e.g. ${options})`,
    });
  }
  const layers = spec.numLayers;
  if (isPositiveInt(layers) && pipeline > layers) {
    issues.push({
      field: 'parallelism.pipeline',
      message: `pipeline parallel size ${pipeline} is more than the model's ${layers} layers`,
    });
  }

  const gpus = tensor * pipeline;
  if (gpus <= gpusPerNode) {
    // One pod; a group smaller than a node asks only for the GPUs it uses.
    return issues.length ? issues : { groupSize: 1, gpusPerGroup: gpus, gpusPerPod: gpus };
  }
  if (gpus % gpusPerNode !== 0) {
    const lower = Math.floor(gpus / gpusPerNode) * gpusPerNode;
    const upper = lower + gpusPerNode;
    issues.push({
      field: 'parallelism',
      message:
        `tensor × pipeline = ${gpus} GPUs is not a whole number of ${gpusPerNode}-GPU nodes: a group larger ` +
        `than one node uses whole nodes (e.g. ${lower} or ${upper} GPUs)`,
    });
  }
  if (!spec.allowTensorAcrossNodes) {
    if (tensor > gpusPerNode) {
      const suggestion =
        tensor % gpusPerNode === 0
          ? `; use tensor ${gpusPerNode} and pipeline ${(pipeline * tensor) / gpusPerNode} instead ` +
            `(pipeline parallelism between nodes, tensor parallelism within each)`
          : '';
      issues.push({
        field: 'parallelism.tensor',
        message:
          `tensor parallel size ${tensor} is larger than the ${gpusPerNode} GPUs of one node, so every layer's ` +
          `all-reduce would cross the network, which is slow${suggestion}; set allowTensorAcrossNodes to ` +
          `true if this is really what you want`,
      });
    } else if (gpusPerNode % tensor !== 0) {
      issues.push({
        field: 'parallelism.tensor',
        message:
          `tensor parallel size ${tensor} does not divide the ${gpusPerNode} GPUs of a node, so some ` +
          `tensor-parallel groups would span two nodes (slow); use a divisor of ${gpusPerNode} or set ` +
          `allowTensorAcrossNodes to true`,
      });
    }
  }
  if (issues.length) return issues;
  return { groupSize: gpus / gpusPerNode, gpusPerGroup: gpus, gpusPerPod: gpusPerNode };
}

// ---------------------------------------------------------------------------------------------------
// GPU types and layout proposals

export interface GpuType {
  /** Memory of one GPU as the driver reports it (nvidia-smi's total), in bytes. */
  memoryBytes: number;
}

/** Known GPU types (memory from nvidia-smi's `memory.total`, MiB). Callers may pass their own table. */
export const DEFAULT_GPU_TYPES: Readonly<Record<string, GpuType>> = Object.freeze({
  'A100-40GB': { memoryBytes: 40_960 * 1024 ** 2 },
  'A100-80GB': { memoryBytes: 81_920 * 1024 ** 2 },
  'H100-80GB': { memoryBytes: 81_559 * 1024 ** 2 },
  'H200-141GB': { memoryBytes: 143_771 * 1024 ** 2 },
  'L40S-48GB': { memoryBytes: 46_068 * 1024 ** 2 },
});

export interface GpuFacts {
  memoryBytes: number;
  gpusPerNode: number;
  /** For the explanation, e.g. `H100-80GB`. */
  name?: string;
}

/** The GPU facts for a named type, or an issue naming the known types. */
export function gpuFacts(
  type: string,
  gpusPerNode: number,
  table: Readonly<Record<string, GpuType>> = DEFAULT_GPU_TYPES,
): GpuFacts | FieldIssue[] {
  const known = Object.prototype.hasOwnProperty.call(table, type) ? table[type] : undefined;
  if (!known) {
    return [
      {
        field: 'gpuType',
        message: `unknown GPU type "${type}"; known: ${Object.keys(table).sort().join(', ')}`,
      },
    ];
  }
  return { memoryBytes: known.memoryBytes, gpusPerNode, name: type };
}

/** Bytes per parameter for the dtypes model configs and vLLM use. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  float32: 4,
  fp32: 4,
  float: 4,
  float16: 2,
  fp16: 2,
  half: 2,
  bfloat16: 2,
  bf16: 2,
  float8: 1,
  fp8: 1,
  float8_e4m3fn: 1,
  float8_e5m2: 1,
  int8: 1,
  int4: 0.5,
});

export interface ModelFacts {
  /** Total bytes of the weight files; when absent, parameterCount × bytes of dtype. */
  weightBytes?: number;
  dtype: string;
  parameterCount?: number;
  numAttentionHeads?: number;
  numLayers?: number;
}

export interface LayoutOptions {
  /** vLLM --gpu-memory-utilization: share of each GPU vLLM may use (default 0.9). */
  memoryUtilization?: number;
  /** Share of that usable memory kept free of weights for the KV cache and activations (default 0.3). */
  kvCacheFraction?: number;
  /** Largest group proposed, in nodes (default 64). */
  maxNodes?: number;
}

export interface LayoutProposal {
  tensor: number;
  pipeline: number;
  gpusPerNode: number;
  groupSize: number;
  gpusPerGroup: number;
  gpusPerPod: number;
  /** How the numbers were derived, for the person who asked. */
  explanation: string;
}

export const DEFAULT_MEMORY_UTILIZATION = 0.9;
export const DEFAULT_KV_CACHE_FRACTION = 0.3;

const fmtGiB = (bytes: number): string => `${(bytes / GiB).toFixed(1)} GiB`;
const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;

/**
 * The smallest layout whose GPUs hold the weights and leave `kvCacheFraction` of the usable memory
 * (`memoryUtilization` of each GPU) for the KV cache. Within a node the tensor degree is the smallest
 * power of two that suffices (and divides the attention heads when known); beyond one node, tensor
 * parallelism fills each node and pipeline parallelism spans nodes (never more stages than layers).
 * Among layouts of equal GPU count, fewer pipeline stages win.
 */
export function proposeLayout(
  model: ModelFacts,
  gpu: GpuFacts,
  opts: LayoutOptions = {},
): LayoutProposal | FieldIssue[] {
  const issues: FieldIssue[] = [];
  const util = opts.memoryUtilization ?? DEFAULT_MEMORY_UTILIZATION;
  const kv = opts.kvCacheFraction ?? DEFAULT_KV_CACHE_FRACTION;
  const maxNodes = opts.maxNodes ?? 64;
  const dtypeBytes = DTYPE_BYTES[model.dtype.toLowerCase()];
  let weights = model.weightBytes;
  if (weights === undefined && model.parameterCount !== undefined && dtypeBytes !== undefined) {
    weights = model.parameterCount * dtypeBytes;
  }
  if (weights === undefined || !Number.isFinite(weights) || weights <= 0) {
    issues.push({
      field: 'model.weightBytes',
      message: 'the model version has no recorded weight size (nor a parameter count and known dtype)',
    });
  }
  if (!(util > 0 && util <= 1)) issues.push({ field: 'memoryUtilization', message: 'must be in (0, 1]' });
  if (!(kv >= 0 && kv < 1)) issues.push({ field: 'kvCacheFraction', message: 'must be in [0, 1)' });
  if (!isPositiveInt(gpu.gpusPerNode) || gpu.gpusPerNode > 64) {
    issues.push({ field: 'gpusPerNode', message: 'must be an integer from 1 to 64' });
  }
  if (!(gpu.memoryBytes > 0)) issues.push({ field: 'gpu.memoryBytes', message: 'must be positive' });
  if (!isPositiveInt(maxNodes)) issues.push({ field: 'maxNodes', message: 'must be a positive integer' });
  if (issues.length || weights === undefined) return issues;

  const gpn = gpu.gpusPerNode;
  const heads = isPositiveInt(model.numAttentionHeads) ? model.numAttentionHeads : undefined;
  const layers = isPositiveInt(model.numLayers) ? model.numLayers : undefined;
  const usable = gpu.memoryBytes * util;
  const forWeights = usable * (1 - kv);
  const minGpus = Math.ceil(weights / usable);
  const needed = Math.max(1, Math.ceil(weights / forWeights));

  // Tensor degrees: powers of two within a node that divide the heads (1 always qualifies).
  const tensors: number[] = [];
  for (let t = 1; t <= gpn; t *= 2) if (heads === undefined || heads % t === 0) tensors.push(t);

  // First choice: tensor parallelism alone within one node, the smallest power of two that suffices.
  let best: { tensor: number; pipeline: number } | undefined;
  const single = tensors.find((t) => t >= needed);
  if (single !== undefined) best = { tensor: single, pipeline: 1 };
  // Otherwise pipeline stages too: whole nodes with tensor groups inside a node (or, when the heads
  // rule out a large enough tensor degree, stages within one node). Fewest GPUs, then fewest stages.
  for (const tensor of best ? [] : tensors) {
    const maxPipeline = Math.min(layers ?? Number.MAX_SAFE_INTEGER, Math.floor((maxNodes * gpn) / tensor));
    for (let pipeline = Math.max(1, Math.ceil(needed / tensor)); pipeline <= maxPipeline; pipeline++) {
      const gpus = tensor * pipeline;
      const fits = gpus <= gpn || (gpus % gpn === 0 && gpn % tensor === 0);
      if (!fits) continue;
      const bestGpus = best ? best.tensor * best.pipeline : Infinity;
      if (gpus < bestGpus || (gpus === bestGpus && best && pipeline < best.pipeline))
        best = { tensor, pipeline };
      break; // larger pipelines with this tensor only cost more GPUs
    }
  }

  const gpuName = gpu.name ? `${gpu.name} GPUs` : 'GPUs';
  const basis =
    `weights ${fmtGiB(weights)} in ${model.dtype} need ${minGpus} ${gpuName} of ${fmtGiB(gpu.memoryBytes)} ` +
    `at ${pct(util)} utilisation; keeping ${pct(kv)} of that for the KV cache, ${needed} GPU${needed === 1 ? '' : 's'}`;
  if (!best) {
    const limits = [`at most ${maxNodes} nodes of ${gpn} GPUs`];
    if (layers !== undefined) limits.push(`at most ${layers} pipeline stages`);
    if (heads !== undefined) limits.push(`tensor degrees dividing ${heads} heads`);
    return [{ field: 'parallelism', message: `no layout fits: ${basis}, with ${limits.join(', ')}` }];
  }
  const { tensor, pipeline } = best;
  const sized = sizeGroup({
    tensor,
    pipeline,
    gpusPerNode: gpn,
    numAttentionHeads: heads,
    numLayers: layers,
  });
  if (Array.isArray(sized)) return sized; // cannot happen: the search only keeps valid layouts
  const gpus = tensor * pipeline;
  const notes: string[] = [];
  if (gpus > needed) {
    const why = [
      pipeline === 1
        ? 'a power of two'
        : gpus > gpn
          ? `whole ${gpn}-GPU nodes`
          : 'tensor × pipeline within one node',
    ];
    if (heads !== undefined) why.push(`tensor dividing the ${heads} attention heads`);
    notes.push(`rounded up to ${gpus} (${why.join(', ')})`);
  }
  const layout =
    sized.groupSize === 1
      ? pipeline === 1
        ? `TP ${tensor} within one node`
        : `TP ${tensor} × PP ${pipeline} within one node`
      : `TP ${tensor} within each node × PP ${pipeline} across ${sized.groupSize} nodes of ${gpn} GPUs ` +
        `(group size ${sized.groupSize})`;
  const explanation = `${basis}${notes.length ? `, ${notes.join('; ')}` : ''} -> ${layout}`;
  return { tensor, pipeline, gpusPerNode: gpn, ...sized, explanation };
}
