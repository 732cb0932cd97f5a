// The node agent: the shared kubelet (@troupe/kubelet) for GPU nodes it registers on any API server.
// Pods bound to its nodes come from a list + watch of all pods (libs/kube's ResourceCache); their status
// goes through pods/status, graceful deletions are confirmed, events posted; the /sim admin API is served
// on its own port. Every call is raw JSON (libs/kube's KubeRest): a status written back must keep all
// it read, which client-node's typed client would not (Dates for timestamps, unknown fields dropped).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeRest, loadKubeConfig, ResourceCache, statusCodeOf } from '@troupe/kube';
import {
  adminHandler,
  Kubelet,
  kubeletOptionsOf,
  nodeObject,
  nodeShapeOf,
  sendAdminJson,
  statusBody,
  type KubeletHost,
  type Pod,
  type PodRef,
  type SimNodeOptions,
} from '@troupe/kubelet';
import { EventPoster } from './events';
import { NodeManager } from './node-manager';
import { PodWriter, type PodApi } from './pod-writer';

/** Node shape, pod timings and engines: the options shared with the simulator (libs/kubelet). */
export interface NodeAgentOptions extends SimNodeOptions {
  /** Kubeconfig of the API server (its current context). */
  kubeconfigPath: string;
  /** Nodes are `<nodeNamePrefix><i>`. Default `node-`. */
  nodeNamePrefix?: string;
  /** Admin API port on `adminHost`. Default 0 (a free port). */
  adminPort?: number;
  /** Default 127.0.0.1. */
  adminHost?: string;
  /** Lease `leaseDurationSeconds`. Default 40. */
  leaseDurationSeconds?: number;
  /** Lease renewal period. Default 10 s. */
  leaseRenewMs?: number;
  /** Node status (lastHeartbeatTime) refresh period. Default 60 s. */
  nodeStatusRefreshMs?: number;
  /** Bound on how long a deleted pod's engine may finish its requests. Default 2000 ms. */
  maxDrainMs?: number;
  /** How long to keep trying to register the nodes at start. Default 60 s. */
  registerTimeoutMs?: number;
  /** Delete the Node objects (and leases) on stop. Default false: a restarted agent adopts them. */
  deleteNodesOnStop?: boolean;
  log?: (message: string) => void;
}

export interface NodeAgent {
  /** Base URL of the admin API (`${adminUrl}/sim/...`). */
  adminUrl: string;
  adminPort: number;
  /** Names of the nodes it runs. */
  nodes: string[];
  kubelet: Kubelet;
  /** Resolves when the pod and node writes under way are done (tests). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A pod (enough of one for the kubelet) bound to one of `nodes`, else undefined. */
export function acceptPod(raw: unknown, nodes: ReadonlySet<string>): Pod | undefined {
  if (!isRecord(raw) || !isRecord(raw.metadata) || !isRecord(raw.spec)) return undefined;
  const { metadata, spec } = raw;
  if (typeof metadata.name !== 'string' || typeof metadata.uid !== 'string') return undefined;
  if (typeof spec.nodeName !== 'string' || !nodes.has(spec.nodeName)) return undefined;
  if (!Array.isArray(spec.containers)) return undefined;
  return raw as unknown as Pod;
}

function podApi(rest: KubeRest): PodApi {
  const path = (ref: Pick<PodRef, 'namespace' | 'name'>): string =>
    `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods/${encodeURIComponent(ref.name)}`;
  return {
    async get(ref) {
      try {
        const pod = await rest.request('GET', `${path(ref)}/status`);
        return isRecord(pod) ? (pod as unknown as Pod) : undefined;
      } catch (err) {
        if (statusCodeOf(err) === 404) return undefined;
        throw err;
      }
    },
    async putStatus(pod) {
      const ref = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' };
      await rest.request('PUT', `${path(ref)}/status`, { body: pod });
    },
    async delete(ref) {
      await rest.request('DELETE', path(ref), {
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          gracePeriodSeconds: 0,
          preconditions: { uid: ref.uid },
        },
      });
    },
  };
}

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const log = options.log ?? (() => undefined);
  const kubeConfig = loadKubeConfig({ kubeconfigPath: options.kubeconfigPath, inCluster: false });
  if (!kubeConfig.getCurrentCluster())
    throw new Error(`${options.kubeconfigPath}: the kubeconfig has no current cluster`);
  const rest = new KubeRest(kubeConfig);
  const shape = nodeShapeOf(options, {
    namePrefix: options.nodeNamePrefix ?? 'node-',
    nodeInfo: {
      osImage: 'Troupe node agent',
      kubeletVersion: 'v1.32.0-troupe-node-agent',
      containerRuntimeVersion: 'sim://1.0.0',
    },
  });
  const manifests = Array.from({ length: shape.count }, (_, i) => nodeObject(i, shape));
  const nodeNames = new Set(manifests.map((m) => m.metadata.name));

  // The node manager, pod cache and host close over the kubelet `k` created after them (it needs the
  // host); none of them calls it before start-up is done.
  const isDown = (name: string): boolean => k.isNodeDown(name);
  const nodeManager = new NodeManager(rest, manifests, {
    leaseDurationSeconds: options.leaseDurationSeconds ?? 40,
    leaseRenewMs: options.leaseRenewMs ?? 10_000,
    statusRefreshMs: options.nodeStatusRefreshMs ?? 60_000,
    isDown,
    log,
  });
  const writer = new PodWriter(podApi(rest), { log });
  const events = new EventPoster(rest, log);
  const pods = new ResourceCache<Pod>({
    name: 'pods of the agent',
    path: '/api/v1/pods',
    source: rest,
    decode: (raw) => acceptPod(raw, nodeNames),
    // The API server may come back with another store (a fresh etcd): list again, do not resume.
    relistAfterError: true,
    backoff: { initialMs: 200, maxMs: 10_000 },
    onError: watchErrorLog(log),
    onRecovered: () => log('pod watch recovered'),
  });
  pods.onEvent((ev) => {
    if (ev.type === 'deleted') k.podDeleted(ev.object);
    else k.podChanged(ev.object);
  });
  const host: KubeletHost = {
    getPod: (namespace, name) => pods.get(namespace, name),
    getNode: (name) => nodeManager.getNode(name),
    writePodStatus: (ref, update) => writer.writeStatus(ref, update),
    deletePod: (ref) => writer.confirmDeletion(ref),
    updateNode(name, update) {
      if (!nodeManager.has(name) || !nodeManager.getNode(name)) return false;
      nodeManager.updateNode(name, update);
      return true;
    },
    recordEvent: (involved, type, reason, message, source) =>
      events.post({ involved, type, reason, message, source }),
  };
  const k = new Kubelet(
    host,
    {
      ...kubeletOptionsOf(options),
      ownsNode: (name) => nodeNames.has(name),
      adoptStartedPods: true,
      maxDrainMs: options.maxDrainMs ?? 2000,
    },
    log,
  );

  const admin = adminHandler({
    kubelet: k,
    summary: () => ({
      nodes: nodeManager.names.map((name) => ({ name, down: k.isNodeDown(name) })),
      pods: k.podCount,
      engines: k.engines().length,
      watch: pods.stats(),
    }),
  });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/sim' || path.startsWith('/sim/')) {
      void admin(req, res, url);
      return;
    }
    if (path === '/healthz') return sendAdminJson(res, 200, { ok: true });
    sendAdminJson(res, 404, statusBody(404, 'NotFound', `no such endpoint: ${req.method} ${url.pathname}`));
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await pods.stop();
    await k.close();
    await writer.close();
    events.close();
    await nodeManager.stop(options.deleteNodesOnStop ?? false);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    rest.close();
  };

  try {
    await nodeManager.register(Date.now() + (options.registerTimeoutMs ?? 60_000));
    pods.start();
    await pods.synced();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.adminPort ?? 0, options.adminHost ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  nodeManager.startHeartbeats();
  const port = (server.address() as AddressInfo).port;
  const adminHost = options.adminHost ?? '127.0.0.1';
  return {
    adminUrl: `http://${adminHost.includes(':') ? `[${adminHost}]` : adminHost}:${port}`,
    adminPort: port,
    nodes: nodeManager.names,
    kubelet: k,
    async settled() {
      await Promise.all([writer.flushed(), nodeManager.settled()]);
    },
    stop,
  };
}

/** Logs the first watch failure of a run of them and every 20th. */
function watchErrorLog(log: (message: string) => void): (err: unknown, phase: string) => void {
  let failures = 0;
  return (err, phase) => {
    failures++;
    if (failures !== 1 && failures % 20 !== 0) return;
    log(
      `pod ${phase} failed${failures > 1 ? ` (${failures} times)` : ''}, retrying: ${(err as Error)?.message ?? String(err)}`,
    );
  };
}
