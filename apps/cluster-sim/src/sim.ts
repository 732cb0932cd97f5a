// Wires the simulated cluster together: store, API, controllers, scheduler, kubelet, HTTP server.

import { adminHandler, Kubelet, kubeletOptionsOf, nodeShapeOf, type SimNodeOptions } from '@troupe/kubelet';
import { ClusterApi } from './api/cluster-api';
import { KubeHttpServer } from './api/http/server';
import { bootstrap } from './bootstrap';
import { LeaderWorkerSetController } from './controllers/lws-controller';
import { EventRecorder } from './controllers/recorder';
import { StatefulSetController } from './controllers/statefulset-controller';
import { buildRegistry, RES } from './kinds';
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig';
import { storeKubeletHost } from './kubelet-host';
import { loadLwsCrd, type LwsCrd } from './lws/crd';
import { Scheduler } from './scheduler/scheduler';
import { ObjectStore } from './store/object-store';
import { WatchHub } from './store/watch-hub';
import type { Pod } from './types/workloads';

/** Node shape, pod timings and engines: the options shared with the node agent (libs/kubelet). */
export interface ClusterSimOptions extends SimNodeOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** Where to write the kubeconfig (optional). */
  kubeconfigPath?: string;
  /**
   * Nodes the simulator creates and runs (its kubelet runs the pods of these nodes only). 0: none, for
   * a cluster whose nodes a node agent registers (apps/node-agent). Default 8.
   */
  nodes?: number;
  /**
   * Delete pods bound to a node gracefully, as a real API server: `deletionTimestamp` first, gone when
   * their kubelet confirms (the node agent, or this simulator's kubelet for its own nodes). Default
   * false: deletion is immediate.
   */
  gracefulPodDeletion?: boolean;
  /** Path of the LWS CRD; `false` for the built-in condensed schema; default: search ../shared/reference. */
  crdPath?: string | false;
  /** Watch history kept for resuming (events). Default 20000. */
  historySize?: number;
  /** Interval of watch bookmarks (when asked for). Default 10 s. */
  bookmarkIntervalMs?: number;
  maxEventsPerNamespace?: number;
  log?: (message: string) => void;
}

export interface ClusterSim {
  url: string;
  host: string;
  port: number;
  kubeconfigPath?: string;
  /** The kubeconfig text (also written to kubeconfigPath when given). */
  kubeconfig: string;
  crdSource: string;
  api: ClusterApi;
  store: ObjectStore;
  kubelet: Kubelet;
  /** Resolves when every controller queue is empty (useful in benchmarks). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startClusterSim(options: ClusterSimOptions = {}): Promise<ClusterSim> {
  const log = options.log ?? (() => undefined);
  const crd: LwsCrd = loadLwsCrd(options.crdPath);
  const store = new ObjectStore(options.historySize ?? 20_000);
  let nextIp = 10;
  const allocateClusterIP = (): string => {
    const n = nextIp++;
    return `10.96.${Math.floor(n / 254)}.${(n % 254) + 1}`;
  };
  const registry = buildRegistry({ crd, allocateClusterIP });
  const api = new ClusterApi(store, registry);
  api.gracefulPodDeletion = options.gracefulPodDeletion ?? false;
  const hub = new WatchHub(store);
  const recorder = new EventRecorder(api, options.maxEventsPerNamespace ?? 2000);
  const onError = (name: string) => (key: string, err: unknown) =>
    log(`${name} ${key}: ${(err as Error)?.stack ?? String(err)}`);
  const sts = new StatefulSetController(api, recorder, onError('statefulset'));
  const lws = new LeaderWorkerSetController(api, recorder, onError('leaderworkerset'));
  const scheduler = new Scheduler(api, recorder, onError('scheduler'));
  const ownNodes = new Set<string>();
  const kubelet = new Kubelet(
    storeKubeletHost(api, recorder),
    { ...kubeletOptionsOf(options), ownsNode: (name) => ownNodes.has(name) },
    log,
  );
  store.subscribe((ev) => {
    lws.onEvent(ev);
    sts.onEvent(ev);
    scheduler.onEvent(ev);
    if (ev.resource === RES.pods) {
      if (ev.type === 'DELETED') kubelet.podDeleted(ev.object as Pod);
      else kubelet.podChanged(ev.object as Pod);
    }
  });
  for (const name of bootstrap(api, nodeShapeOf(options))) ownNodes.add(name);

  const summary = (): unknown => ({
    nodes: store
      .list(RES.nodes)
      .map((n) => ({ name: n.metadata.name, down: kubelet.isNodeDown(n.metadata.name as string) })),
    pods: store.count(RES.pods),
    leaderWorkerSets: store.count(RES.leaderworkersets),
    engines: kubelet.engines().length,
    watches: http.openWatches,
    resourceVersion: store.currentRv(),
    crd: crd.source,
  });
  const http = new KubeHttpServer({
    api,
    hub,
    crd,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 10_000,
    admin: adminHandler({ kubelet, summary }),
    podLog: (ns, name) => kubelet.podLog(ns, name),
  });
  const host = options.host ?? '127.0.0.1';
  const port = await http.listen(options.port ?? 0, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeconfig = kubeconfigYaml(url);
  if (options.kubeconfigPath) writeKubeconfig(options.kubeconfigPath, kubeconfig);
  const queues = [sts.queue, lws.lwsQueue, lws.podQueue, scheduler.queue];

  return {
    url,
    host,
    port,
    kubeconfigPath: options.kubeconfigPath,
    kubeconfig,
    crdSource: crd.source,
    api,
    store,
    kubelet,
    async idle() {
      for (;;) {
        await new Promise((r) => setImmediate(r));
        if (queues.every((q) => q.length === 0)) {
          await new Promise((r) => setImmediate(r));
          if (queues.every((q) => q.length === 0)) return;
        }
      }
    },
    async close() {
      sts.close();
      lws.close();
      scheduler.close();
      await kubelet.close();
      hub.close();
      await http.close();
    },
  };
}
