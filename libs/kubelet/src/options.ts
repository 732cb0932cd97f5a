// The options the cluster simulator and the node agent share: the nodes their kubelet registers and how
// it runs their pods, and the defaults both apply (the agent's CLI and the simulator's set their own
// pod timings).

import type { KubeletOptions } from './kubelet';
import { DEFAULT_NODE_SHAPE, type NodeShape } from './nodes';

export interface SimNodeOptions {
  /** Nodes `<prefix>0 … (n-1)`. Default 8. */
  nodes?: number;
  /** `nvidia.com/gpu` per node. Default 8. */
  gpusPerNode?: number;
  /** Topology domains the nodes are spread over. Default 2. */
  racks?: number;
  /** Node label carrying the rack. Default `rack`. */
  topologyKey?: string;
  /** Default 96. */
  cpuPerNode?: number;
  /** Default 1024. */
  memoryGiPerNode?: number;
  /** Default 110. */
  maxPodsPerNode?: number;
  /** `nvidia.com/gpu.product` label. Default NVIDIA-H100-80GB-HBM3. */
  gpuProduct?: string;
  /** Delay from scheduling to containers running (ContainerCreating). Default 0. */
  podStartMs?: number;
  /** Delay from running to ready. Default 0. */
  podReadyMs?: number;
  /** Period of engine /health readiness probes. Default 100 ms. */
  probePeriodMs?: number;
  /** Start simulated engines for pods that run vLLM or SGLang. Default true. */
  engines?: boolean;
  engineMaxSeqs?: number;
  engineTpotMs?: number;
  engineTtftMs?: number;
  engineKvCacheTokens?: number;
  /**
   * First pod IP (e.g. 127.0.1.1). Default: a random /24 in 127.0.1.0-127.99.255.0, so kubelets
   * running at the same time on one machine do not give two pods the same IP:port.
   */
  podIpStart?: string;
}

/** The node shape of the options, defaults from `DEFAULT_NODE_SHAPE`; `extra`: name prefix, node info. */
export function nodeShapeOf(
  o: SimNodeOptions,
  extra: Pick<NodeShape, 'namePrefix' | 'nodeInfo'> = {},
): NodeShape {
  const d = DEFAULT_NODE_SHAPE;
  return {
    count: o.nodes ?? d.count,
    gpusPerNode: o.gpusPerNode ?? d.gpusPerNode,
    racks: o.racks ?? d.racks,
    topologyKey: o.topologyKey ?? d.topologyKey,
    cpuPerNode: o.cpuPerNode ?? d.cpuPerNode,
    memoryGiPerNode: o.memoryGiPerNode ?? d.memoryGiPerNode,
    maxPodsPerNode: o.maxPodsPerNode ?? d.maxPodsPerNode,
    gpuProduct: o.gpuProduct ?? d.gpuProduct,
    ...extra,
  };
}

/** The kubelet's pod and engine settings of the options, with their defaults. */
export function kubeletOptionsOf(
  o: SimNodeOptions,
): Pick<
  KubeletOptions,
  'podStartMs' | 'podReadyMs' | 'probePeriodMs' | 'enableEngines' | 'podIpStart' | 'engines'
> {
  return {
    podStartMs: o.podStartMs ?? 0,
    podReadyMs: o.podReadyMs ?? 0,
    probePeriodMs: o.probePeriodMs ?? 100,
    enableEngines: o.engines ?? true,
    podIpStart: o.podIpStart,
    engines: {
      maxNumSeqs: o.engineMaxSeqs,
      tpotMs: o.engineTpotMs,
      ttftMs: o.engineTtftMs,
      kvCacheTokens: o.engineKvCacheTokens,
    },
  };
}
