// The objects a fresh cluster has: system namespaces, the kubernetes Service, and the GPU nodes.

import os from 'node:os';
import type { ClusterApi } from './api/cluster-api';
import { RES } from './kinds';
import type { KObject } from './types/meta';
import { nowRfc3339 } from './util/duration';

export interface NodeShape {
  count: number;
  gpusPerNode: number;
  racks: number;
  topologyKey: string;
  cpuPerNode: number;
  memoryGiPerNode: number;
  maxPodsPerNode: number;
  gpuProduct: string;
}

export const nodeName = (i: number): string => `node-${i}`;
export const rackOf = (i: number, s: Pick<NodeShape, 'count' | 'racks'>): string =>
  `rack-${Math.floor((i * Math.max(1, s.racks)) / Math.max(1, s.count))}`;
export const nodeIp = (i: number): string => `127.100.${Math.floor((i + 1) / 254)}.${((i + 1) % 254) + 1}`;

export function nodeObject(i: number, s: NodeShape): KObject {
  const name = nodeName(i);
  const now = nowRfc3339();
  const resources: Record<string, string> = {
    cpu: String(s.cpuPerNode),
    memory: `${s.memoryGiPerNode}Gi`,
    pods: String(s.maxPodsPerNode),
    'ephemeral-storage': '1Ti',
    'hugepages-2Mi': '0',
  };
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
    [s.topologyKey]: rackOf(i, s),
  };
  if (s.gpusPerNode > 0) {
    resources['nvidia.com/gpu'] = String(s.gpusPerNode);
    labels['nvidia.com/gpu.product'] = s.gpuProduct;
    labels['nvidia.com/gpu.count'] = String(s.gpusPerNode);
    labels['nvidia.com/gpu.present'] = 'true';
  }
  const condition = (
    type: string,
    status: 'True' | 'False',
    reason: string,
    message: string,
  ): Record<string, unknown> => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
    spec: { podCIDR: `10.244.${i}.0/24`, podCIDRs: [`10.244.${i}.0/24`] },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
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
        osImage: 'Troupe cluster simulator',
        containerRuntimeVersion: 'sim://1.0.0',
        kubeletVersion: 'v1.32.0-troupe-sim',
        kubeProxyVersion: 'v1.32.0-troupe-sim',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

export function bootstrap(api: ClusterApi, shape: NodeShape): void {
  const ns = api.def(RES.namespaces);
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    api.create(
      ns,
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      { internal: true },
    );
  }
  api.create(
    api.def(RES.services),
    'default',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: {
        clusterIP: '10.96.0.1',
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
      },
    },
    { internal: true },
  );
  const nodes = api.def(RES.nodes);
  for (let i = 0; i < shape.count; i++)
    api.create(nodes, undefined, nodeObject(i, shape), { internal: true });
}
