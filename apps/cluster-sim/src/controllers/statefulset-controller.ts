// A simulated StatefulSet controller: creates pods `<sts>-<ordinal>` from the template (Parallel or
// OrderedReady), deletes pods out of range and failed pods, rolls pods at or above the partition to
// the current template revision (honouring maxUnavailable), and maintains status.

import type { ClusterApi } from '../api/cluster-api';
import { RES } from '../kinds';
import { scaledValue } from '../lws/intstr';
import type { StoreEvent } from '../store/events';
import type { KObject } from '../types/meta';
import type { Pod, StatefulSet, StatefulSetStatus } from '../types/workloads';
import { shortHash } from '../util/hash';
import { deepEqual } from '../util/json';
import { ordinalOf, podReady, podTerminal } from './pod-util';
import { splitKey, WorkQueue } from './queue';
import type { EventRecorder } from './recorder';

export const REVISION_LABEL = 'controller-revision-hash';
const SOURCE = { component: 'statefulset-controller' };

export function statefulSetRevision(sts: StatefulSet): string {
  return `${sts.metadata.name}-${shortHash(sts.spec.template, 10)}`;
}

export class StatefulSetController {
  readonly queue: WorkQueue;

  constructor(
    private readonly api: ClusterApi,
    private readonly recorder: EventRecorder,
    onError: (key: string, err: unknown) => void,
  ) {
    this.queue = new WorkQueue('statefulset', (key) => this.reconcile(key), onError);
  }

  /** Store listener: StatefulSet changes, and pods owned by StatefulSets. */
  onEvent(ev: StoreEvent): void {
    if (ev.resource === RES.statefulsets) {
      this.queue.add(`${ev.object.metadata.namespace}/${ev.object.metadata.name}`);
    } else if (ev.resource === RES.pods) {
      const owner = ev.object.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'StatefulSet');
      if (owner) this.queue.add(`${ev.object.metadata.namespace}/${owner.name}`);
    }
  }

  private podsOf(sts: StatefulSet): Pod[] {
    const out: Pod[] = [];
    for (const ref of this.api.store.dependents(sts.metadata.uid as string)) {
      if (ref.resource !== RES.pods) continue;
      const p = this.api.store.get(RES.pods, ref.namespace, ref.name);
      if (p) out.push(p as Pod);
    }
    return out;
  }

  reconcile(key: string): void {
    const [namespace, name] = splitKey(key);
    const stsDef = this.api.def(RES.statefulsets);
    const sts = this.api.tryGet(stsDef, namespace, name) as StatefulSet | undefined;
    if (!sts) return;
    const replicas = sts.spec.replicas ?? 1;
    const start = sts.spec.ordinals?.start ?? 0;
    const end = start + replicas;
    const revision = statefulSetRevision(sts);
    const parallel = sts.spec.podManagementPolicy === 'Parallel';
    const byOrdinal = new Map<number, Pod>();
    for (const pod of this.podsOf(sts)) {
      const ord = ordinalOf(pod.metadata.name as string, name);
      if (ord < 0) continue;
      byOrdinal.set(ord, pod);
    }

    // Condemned (out of range) and failed pods go.
    const condemned = [...byOrdinal.keys()].filter((o) => o < start || o >= end).sort((a, b) => b - a);
    for (const ord of parallel ? condemned : condemned.slice(0, 1)) {
      this.deletePod(sts, byOrdinal.get(ord) as Pod);
      byOrdinal.delete(ord);
    }
    for (const [ord, pod] of byOrdinal) {
      if (ord >= start && ord < end && podTerminal(pod)) {
        this.deletePod(sts, pod);
        byOrdinal.delete(ord);
      }
    }

    // Missing pods are created.
    for (let ord = start; ord < end; ord++) {
      if (byOrdinal.has(ord)) continue;
      if (!parallel && [...byOrdinal.entries()].some(([o, p]) => o < ord && !podReady(p))) break;
      const pod = this.createPod(sts, ord, revision);
      if (!pod) break;
      byOrdinal.set(ord, pod);
      if (!parallel) break;
    }

    // Rolling update: outdated pods at or above the partition, highest ordinal first.
    const strategy = sts.spec.updateStrategy;
    if ((strategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const partition = strategy?.rollingUpdate?.partition ?? 0;
      const maxUnavailable = Math.max(
        1,
        scaledValue(strategy?.rollingUpdate?.maxUnavailable ?? 1, replicas, false),
      );
      let unavailable = 0;
      for (let ord = start; ord < end; ord++) {
        const p = byOrdinal.get(ord);
        if (!p || !podReady(p)) unavailable++;
      }
      for (let ord = end - 1; ord >= start + partition; ord--) {
        const p = byOrdinal.get(ord);
        if (!p || p.metadata.labels?.[REVISION_LABEL] === revision) continue;
        if (podReady(p) && unavailable >= maxUnavailable) break;
        if (podReady(p)) unavailable++;
        this.deletePod(sts, p);
        byOrdinal.delete(ord);
        this.queue.add(key);
      }
    }

    this.updateStatus(sts, [...byOrdinal.values()], revision);
  }

  private createPod(sts: StatefulSet, ord: number, revision: string): Pod | undefined {
    const name = `${sts.metadata.name}-${ord}`;
    const template = sts.spec.template;
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: sts.metadata.namespace,
        labels: {
          ...(template.metadata?.labels ?? {}),
          [REVISION_LABEL]: revision,
          'statefulset.kubernetes.io/pod-name': name,
          'apps.kubernetes.io/pod-index': String(ord),
        },
        annotations: template.metadata?.annotations ? { ...template.metadata.annotations } : undefined,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            name: sts.metadata.name as string,
            uid: sts.metadata.uid as string,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ...template.spec, hostname: name, subdomain: sts.spec.serviceName },
    };
    try {
      const created = this.api.create(this.api.def(RES.pods), sts.metadata.namespace, pod, {
        internal: true,
      }) as Pod;
      this.recorder.record(
        sts,
        'Normal',
        'SuccessfulCreate',
        `create Pod ${name} in StatefulSet ${sts.metadata.name} successful`,
        SOURCE,
      );
      return created;
    } catch (err) {
      this.recorder.record(
        sts,
        'Warning',
        'FailedCreate',
        `create Pod ${name} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`,
        SOURCE,
      );
      return undefined;
    }
  }

  private deletePod(sts: StatefulSet, pod: Pod): void {
    const podDef = this.api.def(RES.pods);
    if (!this.api.tryGet(podDef, pod.metadata.namespace, pod.metadata.name as string)) return;
    this.api.delete(podDef, pod.metadata.namespace, pod.metadata.name as string);
    this.recorder.record(
      sts,
      'Normal',
      'SuccessfulDelete',
      `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`,
      SOURCE,
    );
  }

  private updateStatus(sts: StatefulSet, pods: Pod[], revision: string): void {
    const ready = pods.filter(podReady).length;
    const updated = pods.filter((p) => p.metadata.labels?.[REVISION_LABEL] === revision).length;
    const prev = sts.status;
    const replicas = sts.spec.replicas ?? 1;
    const allUpdated = updated === pods.length && pods.length === replicas;
    const currentRevision = allUpdated || !prev?.currentRevision ? revision : prev.currentRevision;
    const status: StatefulSetStatus = {
      observedGeneration: sts.metadata.generation,
      replicas: pods.length,
      readyReplicas: ready,
      currentReplicas: pods.filter((p) => p.metadata.labels?.[REVISION_LABEL] === currentRevision).length,
      updatedReplicas: updated,
      availableReplicas: ready,
      currentRevision,
      updateRevision: revision,
      collisionCount: 0,
    };
    if (deepEqual(prev, status)) return;
    const next: KObject = { ...sts, status };
    this.api.update(
      this.api.def(RES.statefulsets),
      sts.metadata.namespace,
      sts.metadata.name as string,
      next,
      {
        internal: true,
        subresource: 'status',
      },
    );
  }

  close(): void {
    this.queue.close();
  }
}
