import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GPU_TYPES,
  gpuFacts,
  proposeLayout,
  sizeGroup,
  type GpuFacts,
  type GroupSpec,
  type LayoutOptions,
  type ModelFacts,
} from './sizing';

describe('sizeGroup', () => {
  const ok: [string, GroupSpec, { groupSize: number; gpusPerGroup: number; gpusPerPod: number }][] = [
    [
      'TP8 PP2 on 8-GPU nodes: 2 nodes',
      { tensor: 8, pipeline: 2, gpusPerNode: 8 },
      { groupSize: 2, gpusPerGroup: 16, gpusPerPod: 8 },
    ],
    [
      'TP8 PP1 on 8: one node',
      { tensor: 8, pipeline: 1, gpusPerNode: 8 },
      { groupSize: 1, gpusPerGroup: 8, gpusPerPod: 8 },
    ],
    [
      'TP8 PP3 on 8: 3 nodes',
      { tensor: 8, pipeline: 3, gpusPerNode: 8 },
      { groupSize: 3, gpusPerGroup: 24, gpusPerPod: 8 },
    ],
    [
      'TP4 PP4 on 8: 2 nodes, 2 stages each',
      { tensor: 4, pipeline: 4, gpusPerNode: 8 },
      { groupSize: 2, gpusPerGroup: 16, gpusPerPod: 8 },
    ],
    [
      'TP4 PP1 on 8: part of a node, 4 GPUs',
      { tensor: 4, pipeline: 1, gpusPerNode: 8 },
      { groupSize: 1, gpusPerGroup: 4, gpusPerPod: 4 },
    ],
    [
      'TP2 PP2 on 8: part of a node',
      { tensor: 2, pipeline: 2, gpusPerNode: 8 },
      { groupSize: 1, gpusPerGroup: 4, gpusPerPod: 4 },
    ],
    [
      'TP1 PP1 on 8: one GPU',
      { tensor: 1, pipeline: 1, gpusPerNode: 8 },
      { groupSize: 1, gpusPerGroup: 1, gpusPerPod: 1 },
    ],
    [
      'TP3 PP1 on 8 (no heads known): part of a node',
      { tensor: 3, pipeline: 1, gpusPerNode: 8 },
      { groupSize: 1, gpusPerGroup: 3, gpusPerPod: 3 },
    ],
    [
      'TP4 PP2 on 4-GPU nodes',
      { tensor: 4, pipeline: 2, gpusPerNode: 4 },
      { groupSize: 2, gpusPerGroup: 8, gpusPerPod: 4 },
    ],
    [
      'TP16 PP1 on 8 when asked for',
      { tensor: 16, pipeline: 1, gpusPerNode: 8, allowTensorAcrossNodes: true },
      { groupSize: 2, gpusPerGroup: 16, gpusPerPod: 8 },
    ],
    [
      'TP8 with 64 heads, PP2 with 126 layers',
      { tensor: 8, pipeline: 2, gpusPerNode: 8, numAttentionHeads: 64, numLayers: 126 },
      { groupSize: 2, gpusPerGroup: 16, gpusPerPod: 8 },
    ],
  ];
  it.each(ok)('%s', (_name, spec, expected) => {
    expect(sizeGroup(spec)).toEqual(expected);
  });

  const bad: [string, GroupSpec, string, RegExp][] = [
    [
      'TP16 PP1 on 8 without allowTensorAcrossNodes',
      { tensor: 16, pipeline: 1, gpusPerNode: 8 },
      'parallelism.tensor',
      /slow.*tensor 8 and pipeline 2.*allowTensorAcrossNodes/,
    ],
    [
      'TP16 PP2 on 8 without allowTensorAcrossNodes',
      { tensor: 16, pipeline: 2, gpusPerNode: 8 },
      'parallelism.tensor',
      /tensor 8 and pipeline 4/,
    ],
    [
      'TP3 with 32 heads',
      { tensor: 3, pipeline: 1, gpusPerNode: 8, numAttentionHeads: 32 },
      'parallelism.tensor',
      /divide the model's 32 attention heads \(e\.g\. 1, 2, 4, 8, 16\)/,
    ],
    [
      'TP6 PP2 on 8: 12 GPUs is not whole nodes',
      { tensor: 6, pipeline: 2, gpusPerNode: 8 },
      'parallelism',
      /12 GPUs is not a whole number of 8-GPU nodes.*8 or 16/,
    ],
    [
      'TP3 PP8 on 8: tensor groups would straddle nodes',
      { tensor: 3, pipeline: 8, gpusPerNode: 8 },
      'parallelism.tensor',
      /does not divide the 8 GPUs/,
    ],
    [
      'PP larger than the layer count',
      { tensor: 8, pipeline: 200, gpusPerNode: 8, numLayers: 126 },
      'parallelism.pipeline',
      /more than the model's 126 layers/,
    ],
    ['tensor 0', { tensor: 0, pipeline: 1, gpusPerNode: 8 }, 'parallelism.tensor', /positive integer/],
    ['tensor 1.5', { tensor: 1.5, pipeline: 1, gpusPerNode: 8 }, 'parallelism.tensor', /positive integer/],
    ['pipeline -1', { tensor: 8, pipeline: -1, gpusPerNode: 8 }, 'parallelism.pipeline', /positive integer/],
    ['gpusPerNode 0', { tensor: 8, pipeline: 1, gpusPerNode: 0 }, 'gpusPerNode', /positive integer/],
    [
      'tensor NaN',
      { tensor: Number.NaN, pipeline: 1, gpusPerNode: 8 },
      'parallelism.tensor',
      /positive integer/,
    ],
    [
      'tensor absurdly large',
      { tensor: 4096, pipeline: 1, gpusPerNode: 8 },
      'parallelism.tensor',
      /at most 1024/,
    ],
  ];
  it.each(bad)('%s -> issue on %s', (_name, spec, field, message) => {
    const result = sizeGroup(spec);
    expect(Array.isArray(result)).toBe(true);
    const issues = result as { field: string; message: string }[];
    expect(issues.find((i) => i.field === field)?.message).toMatch(message);
  });
});

describe('gpuFacts', () => {
  it('knows the default GPU types', () => {
    expect(Object.keys(DEFAULT_GPU_TYPES).sort()).toEqual([
      'A100-40GB',
      'A100-80GB',
      'H100-80GB',
      'H200-141GB',
      'L40S-48GB',
    ]);
    expect(gpuFacts('H100-80GB', 8)).toEqual({
      memoryBytes: 81_559 * 1024 ** 2,
      gpusPerNode: 8,
      name: 'H100-80GB',
    });
  });
  it('names the known types for an unknown one, and accepts a custom table', () => {
    expect(gpuFacts('B200', 8)).toEqual([
      { field: 'gpuType', message: expect.stringContaining('H100-80GB') },
    ]);
    expect(gpuFacts('B200', 8, { B200: { memoryBytes: 192 * 1024 ** 3 } })).toMatchObject({
      memoryBytes: 192 * 1024 ** 3,
    });
    expect(Array.isArray(gpuFacts('toString', 8))).toBe(true);
  });
});

describe('proposeLayout', () => {
  const h100 = gpuFacts('H100-80GB', 8) as GpuFacts;
  const a100_40 = gpuFacts('A100-40GB', 8) as GpuFacts;
  const bf16 = (params: number, extra: Partial<ModelFacts> = {}): ModelFacts => ({
    weightBytes: params * 2,
    dtype: 'bfloat16',
    parameterCount: params,
    ...extra,
  });
  const table: [
    string,
    ModelFacts,
    GpuFacts,
    LayoutOptions,
    { tensor: number; pipeline: number; groupSize: number },
  ][] = [
    [
      '7B bf16 on H100: one GPU',
      bf16(7e9, { numAttentionHeads: 32 }),
      h100,
      {},
      { tensor: 1, pipeline: 1, groupSize: 1 },
    ],
    [
      '70B bf16 on H100, 30% for the KV cache: TP4',
      bf16(70e9, { numAttentionHeads: 64, numLayers: 80 }),
      h100,
      {},
      { tensor: 4, pipeline: 1, groupSize: 1 },
    ],
    [
      '70B bf16 on H100, no KV headroom: TP2',
      bf16(70e9),
      h100,
      { kvCacheFraction: 0 },
      { tensor: 2, pipeline: 1, groupSize: 1 },
    ],
    [
      '70B bf16 on A100-40GB: TP8',
      bf16(70e9, { numAttentionHeads: 64 }),
      a100_40,
      {},
      { tensor: 8, pipeline: 1, groupSize: 1 },
    ],
    [
      '405B bf16 on 8×H100: TP8 PP2',
      bf16(405e9, { numAttentionHeads: 128, numLayers: 126 }),
      h100,
      {},
      { tensor: 8, pipeline: 2, groupSize: 2 },
    ],
    [
      '405B fp8 on 8×H100: TP8',
      { weightBytes: 405e9, dtype: 'fp8', numAttentionHeads: 128 },
      h100,
      { kvCacheFraction: 0.2 },
      { tensor: 8, pipeline: 1, groupSize: 1 },
    ],
    [
      '12 heads, 10 GPUs needed: TP4 (divides 12) × PP4',
      { weightBytes: 10 * 50e9, dtype: 'bfloat16', numAttentionHeads: 12 },
      h100,
      {},
      { tensor: 4, pipeline: 4, groupSize: 2 },
    ],
    [
      'weights from parameterCount × dtype',
      { dtype: 'float16', parameterCount: 70e9 },
      h100,
      {},
      { tensor: 4, pipeline: 1, groupSize: 1 },
    ],
    [
      'odd head count: pipeline within a node',
      { weightBytes: 3 * 50e9, dtype: 'bfloat16', numAttentionHeads: 25 },
      h100,
      {},
      { tensor: 1, pipeline: 3, groupSize: 1 },
    ],
  ];
  it.each(table)('%s', (_name, model, gpu, opts, expected) => {
    const p = proposeLayout(model, gpu, opts);
    expect(Array.isArray(p)).toBe(false);
    expect(p).toMatchObject({ ...expected, gpusPerNode: 8 });
  });

  it('explains the numbers', () => {
    const p = proposeLayout(bf16(70e9, { numAttentionHeads: 64 }), h100);
    if (Array.isArray(p)) throw new Error('no layout');
    expect(p.explanation).toBe(
      'weights 130.4 GiB in bfloat16 need 2 H100-80GB GPUs of 79.6 GiB at 90% utilisation; keeping 30% of that ' +
        'for the KV cache, 3 GPUs, rounded up to 4 (a power of two, tensor dividing the 64 attention heads) -> TP 4 within one node',
    );
    const big = proposeLayout(bf16(405e9, { numAttentionHeads: 128, numLayers: 126 }), h100);
    if (Array.isArray(big)) throw new Error('no layout');
    expect(big.explanation).toContain(
      '-> TP 8 within each node × PP 2 across 2 nodes of 8 GPUs (group size 2)',
    );
    expect(big.explanation).toContain('weights 754.4 GiB in bfloat16 need 11 H100-80GB GPUs');
  });

  const bad: [string, ModelFacts, GpuFacts, LayoutOptions, string][] = [
    ['no size known', { dtype: 'bfloat16' }, h100, {}, 'model.weightBytes'],
    ['unknown dtype without bytes', { dtype: 'mystery', parameterCount: 7e9 }, h100, {}, 'model.weightBytes'],
    ['utilisation above 1', bf16(7e9), h100, { memoryUtilization: 1.2 }, 'memoryUtilization'],
    ['kv fraction 1', bf16(7e9), h100, { kvCacheFraction: 1 }, 'kvCacheFraction'],
    ['gpusPerNode 0', bf16(7e9), { memoryBytes: 1e9, gpusPerNode: 0 }, {}, 'gpusPerNode'],
    ['more stages than layers needed', bf16(405e9, { numLayers: 1 }), h100, {}, 'parallelism'],
    ['more nodes than allowed', bf16(405e9), h100, { maxNodes: 1 }, 'parallelism'],
  ];
  it.each(bad)('%s -> issue on %s', (_name, model, gpu, opts, field) => {
    const p = proposeLayout(model, gpu, opts);
    expect(Array.isArray(p)).toBe(true);
    expect((p as { field: string }[]).map((i) => i.field)).toContain(field);
  });

  it('every proposal is a valid sizing', () => {
    for (const params of [1e9, 3e9, 8e9, 13e9, 34e9, 70e9, 180e9, 405e9, 671e9, 1e12]) {
      for (const heads of [undefined, 32, 40, 64, 96, 128]) {
        const p = proposeLayout(bf16(params, { numAttentionHeads: heads, numLayers: 61 }), h100);
        if (Array.isArray(p)) throw new Error(`${params}: ${JSON.stringify(p)}`);
        expect(
          sizeGroup({
            tensor: p.tensor,
            pipeline: p.pipeline,
            gpusPerNode: 8,
            numAttentionHeads: heads,
            numLayers: 61,
          }),
        ).toEqual({
          groupSize: p.groupSize,
          gpusPerGroup: p.gpusPerGroup,
          gpusPerPod: p.gpusPerPod,
        });
        const usable = h100.memoryBytes * 0.9 * 0.7;
        expect(p.tensor * p.pipeline * usable).toBeGreaterThanOrEqual(params * 2);
      }
    }
  });
});
