// The LeaderWorkerSet controller: the leader StatefulSet (rolling update by partition and surge),
// the headless Service and status (LWS reconciler); worker StatefulSets per leader pod and group
// recreation on failure (pod reconciler). Mirrors the upstream controller's observable behaviour.

import type { ClusterApi } from '../api/cluster-api';
import { RES } from '../kinds';
import {
  ANN_EXCLUSIVE_TOPOLOGY,
  ANN_LEADER_NAME,
  ANN_REPLICAS,
  ANN_SIZE,
  ANN_SUBDOMAIN_POLICY,
  ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY,
  ANN_SUBGROUP_POLICY_TYPE,
  ANN_SUBGROUP_SIZE,
  LABEL_GROUP_INDEX,
  LABEL_GROUP_KEY,
  LABEL_NAME,
  LABEL_REVISION,
  LABEL_WORKER_INDEX,
  LWS_API_VERSION,
  LWS_KIND,
} from '../lws/constants';
import { hpaPodSelector, parentAndOrdinal } from '../lws/naming';
import { isLeaderPod } from '../lws/pod-webhook';
import { templateRevision } from '../lws/revision';
import { rollingUpdateParameters, type ReplicaState } from '../lws/rolling-update';
import { computeStatus, type GroupObservation } from '../lws/status';
import type { StoreEvent } from '../store/events';
import type { LeaderWorkerSet, LeaderWorkerSetSpec, LeaderWorkerSetStatus } from '../types/lws';
import type { KObject, OwnerReference } from '../types/meta';
import type { Node, Pod, PodTemplateSpec, StatefulSet } from '../types/workloads';
import { nowRfc3339 } from '../util/duration';
import { deepEqual } from '../util/json';
import { containerRestarted, podReady, podRunningAndReady, statefulSetReady } from './pod-util';
import { splitKey, WorkQueue } from './queue';
import type { EventRecorder } from './recorder';

const SOURCE = { component: 'lws' };

function controllerRef(owner: KObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name as string,
    uid: owner.metadata.uid as string,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export class LeaderWorkerSetController {
  readonly lwsQueue: WorkQueue;
  readonly podQueue: WorkQueue;
  /** Templates by revision, per LWS uid (what upstream keeps in ControllerRevisions). */
  private readonly revisions = new Map<string, Map<string, LeaderWorkerSetSpec>>();
  /** Worker pods deleted while their group was alive: key -> leader pod name and revision. */
  private readonly deletedWorkers = new Map<
    string,
    { lws: string; leader: string; revision?: string; stsUid?: string }
  >();

  constructor(
    private readonly api: ClusterApi,
    private readonly recorder: EventRecorder,
    onError: (key: string, err: unknown) => void,
  ) {
    this.lwsQueue = new WorkQueue('leaderworkerset', (key) => this.reconcileLws(key), onError);
    this.podQueue = new WorkQueue('lws-pod', (key) => this.reconcilePod(key), onError);
  }

  onEvent(ev: StoreEvent): void {
    const o = ev.object;
    const ns = o.metadata.namespace ?? '';
    if (ev.resource === RES.leaderworkersets) {
      if (ev.type === 'DELETED') this.revisions.delete(o.metadata.uid as string);
      else this.lwsQueue.add(`${ns}/${o.metadata.name}`);
      return;
    }
    const lwsName = o.metadata.labels?.[LABEL_NAME];
    if (!lwsName) return;
    if (ev.resource === RES.statefulsets) {
      this.lwsQueue.add(`${ns}/${lwsName}`);
    } else if (ev.resource === RES.pods) {
      const pod = o as Pod;
      if (isLeaderPod(pod)) this.lwsQueue.add(`${ns}/${lwsName}`);
      if (ev.type !== 'DELETED') {
        this.podQueue.add(`${ns}/${o.metadata.name}`);
      } else if (!isLeaderPod(pod)) {
        const owner = pod.metadata.ownerReferences?.find((r) => r.controller);
        this.deletedWorkers.set(`${ns}/${o.metadata.name}`, {
          lws: lwsName,
          leader:
            pod.metadata.annotations?.[ANN_LEADER_NAME] ?? parentAndOrdinal(o.metadata.name as string)[0],
          revision: pod.metadata.labels?.[LABEL_REVISION],
          stsUid: owner?.uid,
        });
        this.podQueue.add(`${ns}/${o.metadata.name}`);
      }
    }
  }

  // ------------------------------------------------------------------ LWS reconciler

  private rememberRevision(lws: LeaderWorkerSet, revision: string): void {
    const uid = lws.metadata.uid as string;
    let m = this.revisions.get(uid);
    if (!m) {
      m = new Map();
      this.revisions.set(uid, m);
    }
    if (!m.has(revision)) m.set(revision, lws.spec);
  }

  reconcileLws(key: string): void {
    const [namespace, name] = splitKey(key);
    const lws = this.api.tryGet(this.api.def(RES.leaderworkersets), namespace, name) as
      LeaderWorkerSet | undefined;
    if (!lws) return;
    const revision = templateRevision(lws);
    this.rememberRevision(lws, revision);
    const stsDef = this.api.def(RES.statefulsets);
    const leaderSts = this.api.tryGet(stsDef, namespace, name) as StatefulSet | undefined;
    const lwsUpdated = leaderSts !== undefined && leaderSts.metadata.labels?.[LABEL_REVISION] !== revision;
    if (!leaderSts) {
      this.recorder.record(
        lws,
        'Normal',
        'CreatingRevision',
        `Creating revision with key ${revision} for a newly created LeaderWorkerSet`,
        SOURCE,
      );
    } else if (lwsUpdated) {
      this.recorder.record(
        lws,
        'Normal',
        'CreatingRevision',
        `Creating revision with key ${revision} for updated LWS`,
        SOURCE,
      );
    }
    const cfg = lws.spec.rolloutStrategy?.rollingUpdateConfiguration ?? {};
    const lwsReplicas = lws.spec.replicas ?? 1;
    const rolling = rollingUpdateParameters({
      lwsReplicas,
      maxUnavailable: cfg.maxUnavailable ?? 1,
      maxSurge: cfg.maxSurge ?? 0,
      lwsPartition: cfg.partition ?? 0,
      lwsUpdated,
      sts: leaderSts
        ? {
            replicas: leaderSts.spec.replicas ?? 1,
            partition: leaderSts.spec.updateStrategy?.rollingUpdate?.partition ?? 0,
            lwsReplicasAnnotation: Number(leaderSts.metadata.annotations?.[ANN_REPLICAS] ?? lwsReplicas),
          }
        : undefined,
      states: () => this.replicaStates(lws, leaderSts?.spec.replicas ?? 0, revision),
    });
    if (rolling.releasingSurgeTo !== undefined) {
      this.recorder.record(
        lws,
        'Normal',
        'GroupsProgressing',
        `deleting surge replica ${name}-${rolling.releasingSurgeTo}`,
        SOURCE,
      );
    }
    const desired = this.leaderStatefulSet(lws, revision, rolling.partition, rolling.replicas);
    if (!leaderSts) {
      try {
        this.api.create(stsDef, namespace, desired, { internal: true });
      } catch (err) {
        // E.g. a template the StatefulSet API refuses (no image): the LWS itself was admitted.
        this.recorder.record(
          lws,
          'Warning',
          'FailedCreate',
          `Failed to create leader statefulset ${name}`,
          SOURCE,
        );
        throw err;
      }
      this.recorder.record(lws, 'Normal', 'GroupsProgressing', `Created leader statefulset ${name}`, SOURCE);
    } else {
      const oldPartition = leaderSts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
      const next: StatefulSet = {
        ...leaderSts,
        metadata: {
          ...leaderSts.metadata,
          labels: { ...leaderSts.metadata.labels, ...desired.metadata.labels },
          annotations: { ...leaderSts.metadata.annotations, ...desired.metadata.annotations },
          ownerReferences: desired.metadata.ownerReferences,
        },
        spec: { ...leaderSts.spec, ...desired.spec },
      };
      this.api.update(stsDef, namespace, name, next, { internal: true });
      if (!lwsUpdated && rolling.partition !== oldPartition) {
        this.recorder.record(
          lws,
          'Normal',
          'GroupsUpdating',
          `Updating replicas ${oldPartition} to ${rolling.partition}`,
          SOURCE,
        );
      }
    }
    if ((lws.spec.networkConfig?.subdomainPolicy ?? 'Shared') === 'Shared') {
      this.ensureHeadlessService(
        lws,
        name,
        { [LABEL_NAME]: name },
        controllerRef(lws, LWS_API_VERSION, LWS_KIND),
      );
    }
    this.updateStatus(lws, revision);
  }

  private leaderStatefulSet(
    lws: LeaderWorkerSet,
    revision: string,
    partition: number,
    replicas: number,
  ): StatefulSet {
    const name = lws.metadata.name as string;
    const lwt = lws.spec.leaderWorkerTemplate;
    const template: PodTemplateSpec = lwt.leaderTemplate ?? lwt.workerTemplate;
    const annotations: Record<string, string> = {
      ...(template.metadata?.annotations ?? {}),
      [ANN_SIZE]: String(lwt.size ?? 1),
    };
    const lwsAnn = lws.metadata.annotations ?? {};
    if (lwsAnn[ANN_EXCLUSIVE_TOPOLOGY]) annotations[ANN_EXCLUSIVE_TOPOLOGY] = lwsAnn[ANN_EXCLUSIVE_TOPOLOGY];
    if (lwt.subGroupPolicy?.subGroupSize !== undefined) {
      annotations[ANN_SUBGROUP_POLICY_TYPE] = lwt.subGroupPolicy.subGroupPolicyType ?? 'LeaderWorker';
      annotations[ANN_SUBGROUP_SIZE] = String(lwt.subGroupPolicy.subGroupSize);
      if (lwsAnn[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY])
        annotations[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY] = lwsAnn[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY];
    }
    if (lws.spec.networkConfig?.subdomainPolicy === 'UniquePerReplica')
      annotations[ANN_SUBDOMAIN_POLICY] = 'UniquePerReplica';
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {
        name,
        namespace: lws.metadata.namespace,
        labels: { [LABEL_NAME]: name, [LABEL_REVISION]: revision },
        annotations: { [ANN_REPLICAS]: String(lws.spec.replicas ?? 1) },
        ownerReferences: [controllerRef(lws, LWS_API_VERSION, LWS_KIND)],
      },
      spec: {
        serviceName: name,
        replicas,
        podManagementPolicy: 'Parallel',
        template: {
          metadata: {
            labels: {
              ...(template.metadata?.labels ?? {}),
              [LABEL_WORKER_INDEX]: '0',
              [LABEL_NAME]: name,
              [LABEL_REVISION]: revision,
            },
            annotations,
          },
          spec: template.spec,
        },
        updateStrategy: {
          type: 'RollingUpdate',
          rollingUpdate: {
            maxUnavailable: lws.spec.rolloutStrategy?.rollingUpdateConfiguration?.maxUnavailable ?? 1,
            partition,
          },
        },
        selector: { matchLabels: { [LABEL_NAME]: name, [LABEL_WORKER_INDEX]: '0' } },
      },
    };
  }

  private ensureHeadlessService(
    lws: LeaderWorkerSet,
    name: string,
    selector: Record<string, string>,
    owner: OwnerReference,
  ): void {
    const def = this.api.def(RES.services);
    if (this.api.tryGet(def, lws.metadata.namespace, name)) return;
    this.api.create(
      def,
      lws.metadata.namespace,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: lws.metadata.namespace, ownerReferences: [owner] },
        spec: { clusterIP: 'None', selector, publishNotReadyAddresses: true },
      },
      { internal: true },
    );
  }

  private leaderPods(lws: LeaderWorkerSet): Pod[] {
    const sts = this.api.store.get(
      RES.statefulsets,
      lws.metadata.namespace ?? '',
      lws.metadata.name as string,
    );
    if (!sts) return [];
    const out: Pod[] = [];
    for (const ref of this.api.store.dependents(sts.metadata.uid as string)) {
      if (ref.resource !== RES.pods) continue;
      const p = this.api.store.get(RES.pods, ref.namespace, ref.name) as Pod | undefined;
      if (p && isLeaderPod(p)) out.push(p);
    }
    return out;
  }

  private workerSts(lws: LeaderWorkerSet, leaderName: string): StatefulSet | undefined {
    return this.api.store.get(RES.statefulsets, lws.metadata.namespace ?? '', leaderName) as
      StatefulSet | undefined;
  }

  private replicaStates(lws: LeaderWorkerSet, stsReplicas: number, revision: string): ReplicaState[] {
    const size = lws.spec.leaderWorkerTemplate.size ?? 1;
    const name = lws.metadata.name as string;
    const states: ReplicaState[] = [];
    for (let i = 0; i < stsReplicas; i++) {
      const leader = this.api.store.get(RES.pods, lws.metadata.namespace ?? '', `${name}-${i}`) as
        Pod | undefined;
      const workers = size > 1 ? this.workerSts(lws, `${name}-${i}`) : undefined;
      if (!leader || (size > 1 && !workers)) {
        states.push({ ready: false, updated: false });
        continue;
      }
      const leaderUpdated = leader.metadata.labels?.[LABEL_REVISION] === revision;
      const leaderReady = podRunningAndReady(leader);
      if (!workers) {
        states.push({ ready: leaderReady, updated: leaderUpdated });
        continue;
      }
      states.push({
        ready: leaderReady && statefulSetReady(workers),
        updated: leaderUpdated && workers.metadata.labels?.[LABEL_REVISION] === revision,
      });
    }
    return states;
  }

  private updateStatus(lws: LeaderWorkerSet, revision: string): void {
    const size = lws.spec.leaderWorkerTemplate.size ?? 1;
    const leaderSts = this.api.store.get(
      RES.statefulsets,
      lws.metadata.namespace ?? '',
      lws.metadata.name as string,
    ) as StatefulSet | undefined;
    const groups: GroupObservation[] = this.leaderPods(lws).map((pod) => {
      const workers = size > 1 ? this.workerSts(lws, pod.metadata.name as string) : undefined;
      const missingWorkers = size > 1 && !workers;
      return {
        index: Number(
          pod.metadata.labels?.[LABEL_GROUP_INDEX] ?? parentAndOrdinal(pod.metadata.name as string)[1],
        ),
        ready:
          podRunningAndReady(pod) && (size === 1 || (workers !== undefined && statefulSetReady(workers))),
        updated:
          pod.metadata.labels?.[LABEL_REVISION] === revision &&
          (size === 1 || workers?.metadata.labels?.[LABEL_REVISION] === revision),
        missingWorkers,
      };
    });
    const computed = computeStatus({
      replicas: lws.spec.replicas ?? 1,
      partition: lws.spec.rolloutStrategy?.rollingUpdateConfiguration?.partition ?? 0,
      groups,
      conditions: lws.status?.conditions ?? [],
      now: nowRfc3339(),
    });
    // The counts are `omitempty` int32s in the upstream Go type: a 0 is not written.
    const status: LeaderWorkerSetStatus = { conditions: computed.conditions };
    const replicas = leaderSts?.status?.replicas ?? 0;
    if (replicas) status.replicas = replicas;
    if (computed.readyReplicas) status.readyReplicas = computed.readyReplicas;
    if (computed.updatedReplicas) status.updatedReplicas = computed.updatedReplicas;
    status.hpaPodSelector = hpaPodSelector(lws.metadata.name as string);
    if (deepEqual(lws.status, status)) return;
    this.api.update(
      this.api.def(RES.leaderworkersets),
      lws.metadata.namespace,
      lws.metadata.name as string,
      { ...lws, status },
      {
        internal: true,
        subresource: 'status',
      },
    );
    if (computed.event)
      this.recorder.record(lws, 'Normal', computed.event.reason, computed.event.message, SOURCE);
  }

  // ------------------------------------------------------------------ pod reconciler

  reconcilePod(key: string): void {
    const [namespace, name] = splitKey(key);
    const podDef = this.api.def(RES.pods);
    const pod = this.api.tryGet(podDef, namespace, name) as Pod | undefined;
    const deleted = this.deletedWorkers.get(key);
    if (deleted) this.deletedWorkers.delete(key);
    if (!pod) {
      if (deleted) this.handleDeletedWorker(namespace, name, deleted);
      return;
    }
    const lwsName = pod.metadata.labels?.[LABEL_NAME];
    if (!lwsName) return;
    const lws = this.api.tryGet(this.api.def(RES.leaderworkersets), namespace, lwsName) as
      LeaderWorkerSet | undefined;
    if (!lws) return;
    if (this.handleRestartPolicy(lws, pod)) return;
    if (!isLeaderPod(pod)) return;
    if (lws.spec.networkConfig?.subdomainPolicy === 'UniquePerReplica') {
      this.ensureHeadlessService(
        lws,
        name,
        { [LABEL_NAME]: lwsName, [LABEL_GROUP_INDEX]: pod.metadata.labels?.[LABEL_GROUP_INDEX] ?? '' },
        controllerRef(pod, 'v1', 'Pod'),
      );
    }
    const size = lws.spec.leaderWorkerTemplate.size ?? 1;
    if (size === 1) return;
    if (lws.spec.startupPolicy === 'LeaderReady' && !podReady(pod)) return;
    const stsDef = this.api.def(RES.statefulsets);
    if (this.api.tryGet(stsDef, namespace, name)) return;
    const topologyKey = lws.metadata.annotations?.[ANN_EXCLUSIVE_TOPOLOGY];
    let nodeSelector: Record<string, string> | undefined;
    if (topologyKey) {
      if (!pod.spec.nodeName) return;
      const node = this.api.store.get(RES.nodes, '', pod.spec.nodeName) as Node | undefined;
      const value = node?.metadata.labels?.[topologyKey];
      if (value === undefined) return;
      nodeSelector = { [topologyKey]: value };
    }
    try {
      this.api.create(stsDef, namespace, this.workerStatefulSet(lws, pod, nodeSelector), { internal: true });
      this.recorder.record(
        lws,
        'Normal',
        'GroupsProgressing',
        `Created worker statefulset for leader pod ${name}`,
        SOURCE,
      );
    } catch (err) {
      this.recorder.record(
        lws,
        'Warning',
        'FailedCreate',
        `Failed to create worker statefulset for leader pod ${name}`,
        SOURCE,
      );
      throw err;
    }
  }

  private templateFor(lws: LeaderWorkerSet, revision: string | undefined): LeaderWorkerSetSpec {
    return (revision && this.revisions.get(lws.metadata.uid as string)?.get(revision)) || lws.spec;
  }

  private workerStatefulSet(
    lws: LeaderWorkerSet,
    leader: Pod,
    nodeSelector?: Record<string, string>,
  ): StatefulSet {
    const lwsName = lws.metadata.name as string;
    const leaderName = leader.metadata.name as string;
    const revision = leader.metadata.labels?.[LABEL_REVISION] ?? '';
    const spec = this.templateFor(lws, revision);
    const lwt = spec.leaderWorkerTemplate;
    const template = lwt.workerTemplate;
    const selector = {
      [LABEL_GROUP_INDEX]: leader.metadata.labels?.[LABEL_GROUP_INDEX] ?? '',
      [LABEL_NAME]: lwsName,
      [LABEL_GROUP_KEY]: leader.metadata.labels?.[LABEL_GROUP_KEY] ?? '',
    };
    const labels = { ...selector, [LABEL_REVISION]: revision };
    const annotations: Record<string, string> = {
      ...(template.metadata?.annotations ?? {}),
      [ANN_SIZE]: String(lwt.size ?? 1),
      [ANN_LEADER_NAME]: leaderName,
    };
    const lwsAnn = lws.metadata.annotations ?? {};
    if (lwsAnn[ANN_EXCLUSIVE_TOPOLOGY]) annotations[ANN_EXCLUSIVE_TOPOLOGY] = lwsAnn[ANN_EXCLUSIVE_TOPOLOGY];
    if (lwt.subGroupPolicy?.subGroupSize !== undefined) {
      annotations[ANN_SUBGROUP_SIZE] = String(lwt.subGroupPolicy.subGroupSize);
      if (lwsAnn[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY])
        annotations[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY] = lwsAnn[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY];
    }
    const podSpec = nodeSelector
      ? { ...template.spec, nodeSelector: { ...(template.spec.nodeSelector ?? {}), ...nodeSelector } }
      : template.spec;
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {
        name: leaderName,
        namespace: lws.metadata.namespace,
        labels,
        ownerReferences: [controllerRef(leader, 'v1', 'Pod')],
      },
      spec: {
        serviceName: (spec.networkConfig?.subdomainPolicy ?? 'Shared') === 'Shared' ? lwsName : leaderName,
        replicas: (lwt.size ?? 1) - 1,
        podManagementPolicy: 'Parallel',
        ordinals: { start: 1 },
        template: {
          metadata: { labels: { ...(template.metadata?.labels ?? {}), ...labels }, annotations },
          spec: podSpec,
        },
        selector: { matchLabels: selector },
      },
    };
  }

  /** RecreateGroupOnPodRestart: a failed or restarted pod of a group deletes the group's leader pod. */
  private handleRestartPolicy(lws: LeaderWorkerSet, pod: Pod): boolean {
    if (lws.spec.leaderWorkerTemplate.restartPolicy !== 'RecreateGroupOnPodRestart') return false;
    if (!containerRestarted(pod) && pod.status?.phase !== 'Failed') return false;
    let leader: Pod | undefined = pod;
    if (!isLeaderPod(pod)) {
      const leaderName =
        pod.metadata.annotations?.[ANN_LEADER_NAME] ?? parentAndOrdinal(pod.metadata.name as string)[0];
      leader = this.api.store.get(RES.pods, pod.metadata.namespace ?? '', leaderName) as Pod | undefined;
      if (!leader) return false;
      if (leader.metadata.labels?.[LABEL_REVISION] !== pod.metadata.labels?.[LABEL_REVISION]) return false;
    }
    this.recreateGroup(lws, pod.metadata.name as string, leader);
    return true;
  }

  private recreateGroup(lws: LeaderWorkerSet, culprit: string, leader: Pod): void {
    const podDef = this.api.def(RES.pods);
    if (!this.api.tryGet(podDef, leader.metadata.namespace, leader.metadata.name as string)) return;
    this.api.delete(podDef, leader.metadata.namespace, leader.metadata.name as string, {
      propagationPolicy: 'Foreground',
    });
    this.recorder.record(
      lws,
      'Normal',
      'RecreateGroupOnPodRestart',
      `Worker pod ${culprit} failed, deleted leader pod ${leader.metadata.name} to recreate group ${leader.metadata.labels?.[LABEL_GROUP_INDEX] ?? ''}`,
      SOURCE,
    );
  }

  /** A worker pod was deleted while its worker StatefulSet and leader live on: recreate the group. */
  private handleDeletedWorker(
    namespace: string,
    name: string,
    d: { lws: string; leader: string; revision?: string; stsUid?: string },
  ): void {
    const lws = this.api.store.get(RES.leaderworkersets, namespace, d.lws) as LeaderWorkerSet | undefined;
    if (!lws || lws.spec.leaderWorkerTemplate.restartPolicy !== 'RecreateGroupOnPodRestart') return;
    if (!d.stsUid || !this.api.store.getByUid(d.stsUid)) return;
    const leader = this.api.store.get(RES.pods, namespace, d.leader) as Pod | undefined;
    if (!leader || leader.metadata.labels?.[LABEL_REVISION] !== d.revision) return;
    this.recreateGroup(lws, name, leader);
  }

  close(): void {
    this.lwsQueue.close();
    this.podQueue.close();
  }
}
