// The objects a fresh cluster has: system namespaces, the kubernetes Service, and the GPU nodes.

import { nodeObject, type NodeShape } from '@troupe/kubelet';
import type { ClusterApi } from './api/cluster-api';
import { RES } from './kinds';

export type { NodeShape };

/** Creates the namespaces, the kubernetes Service and the nodes; returns the nodes' names. */
export function bootstrap(api: ClusterApi, shape: NodeShape): string[] {
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
  const names: string[] = [];
  for (let i = 0; i < shape.count; i++) {
    const node = nodeObject(i, shape);
    api.create(nodes, undefined, node, { internal: true });
    names.push(node.metadata.name);
  }
  return names;
}
