// The agent's Node objects: registration (create, or adopt and update what a former run left),
// status through nodes/status, and the heartbeats that keep kube-controller-manager's node lifecycle
// controller from marking them NotReady: a Lease per node in kube-node-lease renewed every ~10 s, and
// the status (lastHeartbeatTime) refreshed periodically. Writes of one node run one after another.

import {
  heartbeatConditions,
  nowRfc3339,
  UNREACHABLE_TAINT,
  type Node,
  type NodeManifest,
  type NodeUpdate,
} from '@troupe/kubelet';
import { backoffDelay, statusCodeOf, type KubeRest } from '@troupe/kube';

export const LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeManagerOptions {
  leaseDurationSeconds: number;
  leaseRenewMs: number;
  statusRefreshMs: number;
  /** Nodes down by fault injection: no lease renewal, no status refresh. */
  isDown(name: string): boolean;
  log(message: string): void;
}

/** A node as the API serves it (JSON), with the fields the agent writes. */
export type NodeObject = Node & {
  metadata: Node['metadata'] & { annotations?: Record<string, string> };
  spec?: Node['spec'] & Record<string, unknown>;
  status?: Node['status'] & Record<string, unknown>;
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asNode(v: unknown): NodeObject {
  if (!isRecord(v) || !isRecord(v.metadata) || typeof v.metadata.name !== 'string')
    throw new Error('the API answered something that is not a Node');
  return v as unknown as NodeObject;
}

/** Lease renewTime is a MicroTime: RFC 3339 with microseconds. */
export function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * The node an existing one becomes when this agent takes it over: our labels and annotations over
 * theirs, pod CIDRs kept once set (the API refuses changing them), the unreachable taints of an
 * earlier fault dropped, other taints kept.
 */
export function adoptedNode(existing: NodeObject, manifest: NodeManifest): NodeObject {
  const taints = (existing.spec?.taints ?? []).filter((t) => t.key !== UNREACHABLE_TAINT);
  const spec: Record<string, unknown> = { ...existing.spec };
  spec.podCIDR ??= manifest.spec.podCIDR;
  spec.podCIDRs ??= manifest.spec.podCIDRs;
  if (taints.length) spec.taints = taints;
  else delete spec.taints;
  return {
    ...existing,
    metadata: {
      ...existing.metadata,
      labels: { ...existing.metadata.labels, ...manifest.metadata.labels },
      annotations: { ...existing.metadata.annotations, ...manifest.metadata.annotations },
    },
    spec,
  };
}

/** The status a live kubelet posts: our resources, addresses and info; conditions heartbeated. */
export function liveStatus(current: NodeObject, manifest: NodeManifest, now: string): NodeObject {
  const { conditions, ...rest } = manifest.status;
  return {
    ...current,
    status: {
      ...current.status,
      ...rest,
      conditions: heartbeatConditions(current.status?.conditions, conditions, now),
    },
  };
}

export class NodeManager {
  private readonly nodes = new Map<string, NodeObject>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private leasesServed = true;
  private stopped = false;
  /** Consecutive heartbeat failures (for logging the first and every 10th). */
  private heartbeatFailures = 0;

  constructor(
    private readonly rest: KubeRest,
    private readonly manifests: NodeManifest[],
    private readonly o: NodeManagerOptions,
  ) {}

  get names(): string[] {
    return this.manifests.map((m) => m.metadata.name);
  }

  has(name: string): boolean {
    return this.manifests.some((m) => m.metadata.name === name);
  }

  getNode(name: string): Node | undefined {
    return this.nodes.get(name);
  }

  private manifest(name: string): NodeManifest {
    const m = this.manifests.find((x) => x.metadata.name === name);
    if (!m) throw new Error(`node ${name} is not run by this agent`);
    return m;
  }

  /** Runs `op` after the node's earlier writes. */
  private serial(key: string, op: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(key) ?? Promise.resolve()).then(op);
    const settled = next.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return next;
  }

  /** Registers every node (create or adopt), writes its status and first lease; retries until `deadline`. */
  async register(deadline: number): Promise<void> {
    let attempt = 0;
    for (const manifest of this.manifests) {
      for (;;) {
        try {
          await this.registerOne(manifest);
          break;
        } catch (err) {
          if (this.stopped) throw new Error('stopped');
          const code = statusCodeOf(err);
          if (
            Date.now() > deadline ||
            (code !== undefined && code >= 400 && code < 500 && code !== 409 && code !== 429)
          )
            throw new Error(`registering node ${manifest.metadata.name} failed: ${(err as Error).message}`);
          if (attempt === 0)
            this.o.log(`registering node ${manifest.metadata.name}: ${(err as Error).message}; retrying`);
          await new Promise((r) => setTimeout(r, backoffDelay(attempt++, 200, 5000)));
        }
      }
    }
  }

  private async registerOne(manifest: NodeManifest): Promise<void> {
    const name = manifest.metadata.name;
    const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
    let node: NodeObject;
    try {
      const existing = asNode(await this.rest.request('GET', path));
      node = asNode(await this.rest.request('PUT', path, { body: adoptedNode(existing, manifest) }));
      this.o.log(`node ${name}: taken over`);
    } catch (err) {
      if (statusCodeOf(err) !== 404) throw err;
      node = asNode(await this.rest.request('POST', '/api/v1/nodes', { body: manifest }));
      this.o.log(`node ${name}: registered`);
    }
    this.nodes.set(name, node);
    await this.writeStatus(name, false);
    await this.renewLease(name);
  }

  /**
   * GET + PUT nodes/status with the live status, retried on 409. A node that is gone (deleted, or an
   * API server back with an empty store) is registered again.
   */
  private async writeStatus(name: string, reRegister = true): Promise<void> {
    const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
    for (let attempt = 0; ; attempt++) {
      let current: NodeObject;
      try {
        current = asNode(await this.rest.request('GET', path));
      } catch (err) {
        if (statusCodeOf(err) !== 404 || !reRegister || this.stopped) throw err;
        this.o.log(`node ${name} is gone from the API server: registering it again`);
        await this.registerOne(this.manifest(name));
        return;
      }
      try {
        const body = liveStatus(current, this.manifest(name), nowRfc3339());
        this.nodes.set(name, asNode(await this.rest.request('PUT', `${path}/status`, { body })));
        return;
      } catch (err) {
        if (statusCodeOf(err) !== 409 || attempt >= 5) throw err;
      }
    }
  }

  private async renewLease(name: string): Promise<void> {
    if (!this.leasesServed) return;
    const base = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`;
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: this.o.leaseDurationSeconds,
      renewTime: microTime(),
    };
    for (let attempt = 0; ; attempt++) {
      let current: Record<string, unknown> | undefined;
      try {
        const got = await this.rest.request('GET', `${base}/${encodeURIComponent(name)}`);
        current = isRecord(got) ? got : undefined;
      } catch (err) {
        if (statusCodeOf(err) !== 404) throw err;
      }
      try {
        if (!current) {
          const node = this.nodes.get(name);
          await this.rest.request('POST', base, {
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: {
                name,
                namespace: LEASE_NAMESPACE,
                ...(node?.metadata.uid
                  ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }] }
                  : {}),
              },
              spec: { ...spec, acquireTime: spec.renewTime },
            },
          });
        } else {
          await this.rest.request('PUT', `${base}/${encodeURIComponent(name)}`, {
            body: { ...current, spec: { ...(isRecord(current.spec) ? current.spec : {}), ...spec } },
          });
        }
        return;
      } catch (err) {
        const code = statusCodeOf(err);
        if (!current && code === 404) {
          this.leasesServed = false;
          this.o.log(
            `the API server serves no coordination.k8s.io/v1 Leases in ${LEASE_NAMESPACE}: heartbeats by node status only`,
          );
          return;
        }
        if ((code !== 409 && code !== 422) || attempt >= 5) throw err;
      }
    }
  }

  /** Starts the periodic lease renewals and status refreshes. */
  startHeartbeats(): void {
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref?.();
      this.timers.add(t);
    };
    const beat = (what: 'lease' | 'status'): void => {
      for (const name of this.names) {
        if (this.o.isDown(name)) continue;
        const op = what === 'lease' ? () => this.renewLease(name) : () => this.writeStatus(name);
        this.serial(`${what}:${name}`, op).then(
          () => this.heartbeatOk(),
          (err: unknown) => this.heartbeatFailed(name, what, err),
        );
      }
    };
    every(this.o.leaseRenewMs, () => beat('lease'));
    every(this.o.statusRefreshMs, () => beat('status'));
  }

  private heartbeatOk(): void {
    if (this.heartbeatFailures === 0) return;
    this.o.log(`heartbeats recovered after ${this.heartbeatFailures} failure(s)`);
    this.heartbeatFailures = 0;
  }

  private heartbeatFailed(name: string, what: string, err: unknown): void {
    if (this.stopped) return;
    if (this.heartbeatFailures++ % 10 === 0)
      this.o.log(
        `${what} heartbeat of ${name} failed (retried next period): ${(err as Error)?.message ?? String(err)}`,
      );
  }

  /**
   * Node down / up (fault injection): taints through the node, conditions through nodes/status, each
   * read-modify-write retried on 409 and, while the API is unreachable, with backoff for up to 30 s.
   * A node that is up again gets its live status (all conditions) and lease at once.
   */
  updateNode(name: string, update: (node: Node) => NodeUpdate): void {
    const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
    const op = async (): Promise<void> => {
      const deadline = Date.now() + 30_000;
      for (let attempt = 0; ; attempt++) {
        try {
          const node = asNode(await this.rest.request('GET', path));
          const { taints, conditions } = update(node);
          const spec: Record<string, unknown> = { ...node.spec };
          if (taints) spec.taints = taints;
          else delete spec.taints;
          const written = asNode(await this.rest.request('PUT', path, { body: { ...node, spec } }));
          this.nodes.set(
            name,
            asNode(
              await this.rest.request('PUT', `${path}/status`, {
                body: { ...written, status: { ...written.status, conditions } },
              }),
            ),
          );
          break;
        } catch (err) {
          const code = statusCodeOf(err);
          if (this.stopped || Date.now() > deadline || (code !== undefined && code !== 409 && code < 500))
            throw err;
          await new Promise((r) => setTimeout(r, code === 409 ? 0 : backoffDelay(attempt, 200, 5000)));
        }
      }
      if (!this.o.isDown(name)) {
        await this.writeStatus(name);
        await this.renewLease(name);
      }
    };
    this.serial(`status:${name}`, op).catch((err: unknown) =>
      this.o.log(`node ${name}: writing the fault failed: ${(err as Error)?.message ?? String(err)}`),
    );
  }

  /** Waits for the writes under way. */
  async settled(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }

  async stop(deleteNodes: boolean): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    await this.settled();
    if (!deleteNodes) return;
    for (const name of this.names) {
      for (const path of [
        `/api/v1/nodes/${encodeURIComponent(name)}`,
        `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases/${encodeURIComponent(name)}`,
      ]) {
        await this.rest.request('DELETE', path).catch((err: unknown) => {
          if (statusCodeOf(err) !== 404) this.o.log(`deleting ${path} failed: ${(err as Error).message}`);
        });
      }
    }
  }
}
