// The simulator's side of the shared kubelet (@troupe/kubelet): reads from the object store, writes
// through the cluster API as an in-process controller (synchronously), events through the recorder.

import type { KubeletHost, Node as KubeletNode, Pod as KubeletPod } from '@troupe/kubelet';
import type { ClusterApi } from './api/cluster-api';
import type { EventRecorder } from './controllers/recorder';
import { RES } from './kinds';
import type { Node, Pod } from './types/workloads';

export function storeKubeletHost(api: ClusterApi, recorder: EventRecorder): KubeletHost {
  const pods = api.def(RES.pods);
  const nodes = api.def(RES.nodes);
  const getPod = (namespace: string, name: string): Pod | undefined =>
    api.store.get(RES.pods, namespace, name) as Pod | undefined;
  return {
    getPod: (namespace, name): KubeletPod | undefined => getPod(namespace, name),
    getNode: (name): KubeletNode | undefined => api.store.get(RES.nodes, '', name) as Node | undefined,
    writePodStatus(ref, update) {
      const pod = getPod(ref.namespace, ref.name);
      if (!pod || pod.metadata.uid !== ref.uid) return;
      const status = update(pod, { ...(pod.status ?? {}) });
      api.update(
        pods,
        ref.namespace,
        ref.name,
        { ...pod, status },
        { internal: true, subresource: 'status' },
      );
    },
    deletePod(ref) {
      // Only with gracefulPodDeletion: otherwise pods are gone before the kubelet sees them terminating.
      const pod = getPod(ref.namespace, ref.name);
      if (pod && pod.metadata.uid === ref.uid)
        api.delete(pods, ref.namespace, ref.name, { gracePeriodSeconds: 0, preconditions: { uid: ref.uid } });
    },
    updateNode(name, update) {
      const node = api.tryGet(nodes, undefined, name) as Node | undefined;
      if (!node) return false;
      const { taints, conditions } = update(node);
      api.update(nodes, undefined, name, { ...node, spec: { ...node.spec, taints } }, { internal: true });
      const fresh = api.get(nodes, undefined, name) as Node;
      api.update(
        nodes,
        undefined,
        name,
        { ...fresh, status: { ...fresh.status, conditions } },
        { internal: true, subresource: 'status' },
      );
      return true;
    },
    recordEvent(involved, type, reason, message, source) {
      recorder.record(
        {
          apiVersion: involved.apiVersion,
          kind: involved.kind,
          metadata: {
            namespace: involved.namespace,
            name: involved.name,
            uid: involved.uid,
            resourceVersion: involved.resourceVersion,
          },
        },
        type,
        reason,
        message,
        source,
      );
    },
  };
}
