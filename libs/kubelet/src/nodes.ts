// The GPU nodes a kubelet registers (the simulator's and the node agent's are the same objects), and the
// pure node transitions: going down / coming back, and the periodic status heartbeat.

import os from 'node:os';
import { nowRfc3339 } from './pod-status';
import type { Condition, Node, Taint } from './types';

export interface NodeShape {
  count: number;
  gpusPerNode: number;
  racks: number;
  topologyKey: string;
  cpuPerNode: number;
  memoryGiPerNode: number;
  maxPodsPerNode: number;
  gpuProduct: string;
  /** Node names are `<prefix><i>`. Default `node-`. */
  namePrefix?: string;
  /** `osImage`, `kubeletVersion` and friends in `status.nodeInfo`. Default: the simulator's. */
  nodeInfo?: { osImage?: string; kubeletVersion?: string; containerRuntimeVersion?: string };
}

export const DEFAULT_NODE_SHAPE: NodeShape = {
  count: 8,
  gpusPerNode: 8,
  racks: 2,
  topologyKey: 'rack',
  cpuPerNode: 96,
  memoryGiPerNode: 1024,
  maxPodsPerNode: 110,
  gpuProduct: 'NVIDIA-H100-80GB-HBM3',
};

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

export const nodeName = (i: number, prefix = 'node-'): string => `${prefix}${i}`;
export const rackOf = (i: number, s: Pick<NodeShape, 'count' | 'racks'>): string =>
  `rack-${Math.floor((i * Math.max(1, s.racks)) / Math.max(1, s.count))}`;
export const nodeIp = (i: number): string => `127.100.${Math.floor((i + 1) / 254)}.${((i + 1) % 254) + 1}`;

/** A node object in the shape the API takes it (spec and status included), JSON only. */
// A type alias, not an interface, so that it is assignable to index-signature object types.
export type NodeManifest = {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { podCIDR: string; podCIDRs: string[] };
  status: {
    capacity: Record<string, string>;
    allocatable: Record<string, string>;
    conditions: Condition[];
    addresses: { type: string; address: string }[];
    daemonEndpoints: { kubeletEndpoint: { Port: number } };
    nodeInfo: Record<string, string>;
  };
};

function nodeConditions(now: string): Condition[] {
  const condition = (type: string, status: 'True' | 'False', reason: string, message: string): Condition => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return [
    condition(
      'MemoryPressure',
      'False',
      'KubeletHasSufficientMemory',
      'kubelet has sufficient memory available',
    ),
    condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

export function nodeObject(i: number, s: NodeShape, now = nowRfc3339()): NodeManifest {
  const name = nodeName(i, s.namePrefix);
  const resources: Record<string, string> = {
    cpu: String(s.cpuPerNode),
    memory: `${s.memoryGiPerNode}Gi`,
    pods: String(s.maxPodsPerNode),
    'ephemeral-storage': '1Ti',
    'hugepages-2Mi': '0',
  };
  const rack = rackOf(i, s);
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
    [ZONE_LABEL]: rack,
    [s.topologyKey]: rack,
  };
  if (s.gpusPerNode > 0) {
    resources['nvidia.com/gpu'] = String(s.gpusPerNode);
    labels['nvidia.com/gpu.product'] = s.gpuProduct;
    labels['nvidia.com/gpu.count'] = String(s.gpusPerNode);
    labels['nvidia.com/gpu.present'] = 'true';
  }
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
    spec: { podCIDR: `10.244.${i}.0/24`, podCIDRs: [`10.244.${i}.0/24`] },
    status: {
      capacity: resources,
      allocatable: { ...resources },
      conditions: nodeConditions(now),
      addresses: [
        { type: 'InternalIP', address: nodeIp(i) },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: `sim-${i}`,
        systemUUID: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
        bootID: `sim-boot-${i}`,
        kernelVersion: os.release(),
        osImage: s.nodeInfo?.osImage ?? 'Troupe cluster simulator',
        containerRuntimeVersion: s.nodeInfo?.containerRuntimeVersion ?? 'sim://1.0.0',
        kubeletVersion: s.nodeInfo?.kubeletVersion ?? 'v1.32.0-troupe-sim',
        kubeProxyVersion: s.nodeInfo?.kubeletVersion ?? 'v1.32.0-troupe-sim',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** What a node-down or node-up writes: the node's taints (spec) and conditions (status). */
export interface NodeUpdate {
  taints: Taint[] | undefined;
  conditions: Condition[];
}

/**
 * Node down: Ready=Unknown (kubectl: NotReady) and the `node.kubernetes.io/unreachable` NoSchedule +
 * NoExecute taints, as the node lifecycle controller leaves a node whose kubelet stopped posting. Up:
 * Ready=True, those taints removed. Other taints and conditions are kept.
 */
export function nodeDownUpdate(node: Node, down: boolean, now: string): NodeUpdate {
  const taints = (node.spec?.taints ?? []).filter((t) => t.key !== UNREACHABLE_TAINT);
  if (down) {
    taints.push(
      { key: UNREACHABLE_TAINT, effect: 'NoSchedule', timeAdded: now },
      { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: now },
    );
  }
  const conditions = (node.status?.conditions ?? []).map((c): Condition => {
    if (c.type !== 'Ready') return c;
    return down
      ? {
          ...c,
          status: 'Unknown',
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
          lastTransitionTime: now,
        }
      : {
          ...c,
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastTransitionTime: now,
        };
  });
  return { taints: taints.length ? taints : undefined, conditions };
}

/**
 * The conditions a live kubelet posts: each wanted condition with `lastHeartbeatTime` now, keeping the
 * current `lastTransitionTime` when the status did not change; conditions of other writers are kept.
 */
export function heartbeatConditions(
  current: Condition[] | undefined,
  wanted: Condition[],
  now: string,
): Condition[] {
  const byType = new Map((current ?? []).map((c) => [c.type, c]));
  const out: Condition[] = wanted.map((w) => {
    const prev = byType.get(w.type);
    byType.delete(w.type);
    return {
      ...w,
      lastHeartbeatTime: now,
      lastTransitionTime: prev && prev.status === w.status ? prev.lastTransitionTime : now,
    };
  });
  return [...out, ...byType.values()];
}
