// Helpers for cluster-sim end-to-end tests: start a simulator, build @kubernetes/client-node clients.

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startClusterSim, type ClusterSim, type ClusterSimOptions } from '../../apps/cluster-sim/src';

export const LWS = { group: 'leaderworkerset.x-k8s.io', version: 'v1', plural: 'leaderworkersets' } as const;
export const SAMPLE_FILE = path.resolve(
  __dirname,
  '../../apps/cluster-sim/examples/leaderworkerset-sample.yaml',
);
export const UPSTREAM_CRD = path.resolve(__dirname, '../../../shared/reference/lws-v0.7.0-crd.yaml');

export interface SimClients {
  sim: ClusterSim;
  kc: KubeConfig;
  kubeconfigPath: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
  close(): Promise<void>;
}

export async function startSim(options: ClusterSimOptions = {}): Promise<SimClients> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cluster-sim-'));
  const kubeconfigPath = path.join(dir, 'kubeconfig.yaml');
  const sim = await startClusterSim({ kubeconfigPath, ...options });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    sim,
    kc,
    kubeconfigPath,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kc),
    async close() {
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns a truthy value (or throws the last error after `timeoutMs`). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export function kubectl(
  kubeconfig: string,
  args: string[],
  input?: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      {
        timeout: 30_000,
        env: { ...process.env, KUBECACHEDIR: path.join(path.dirname(kubeconfig), 'cache') },
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ stdout, stderr, code });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export function sampleLws(): Record<string, unknown> {
  return parse(fs.readFileSync(SAMPLE_FILE, 'utf8')) as Record<string, unknown>;
}

export interface LwsOptions {
  name: string;
  replicas?: number;
  size?: number;
  image?: string;
  gpus?: number;
  startupPolicy?: 'LeaderCreated' | 'LeaderReady';
  restartPolicy?: 'RecreateGroupOnPodRestart' | 'None';
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  partition?: number;
  annotations?: Record<string, string>;
  leaderContainer?: Record<string, unknown>;
}

export function lwsManifest(o: LwsOptions): Record<string, unknown> {
  const container: Record<string, unknown> = { name: 'main', image: o.image ?? 'nginx:1.14.2' };
  if (o.gpus) container.resources = { limits: { 'nvidia.com/gpu': String(o.gpus) } };
  const spec: Record<string, unknown> = {
    replicas: o.replicas ?? 1,
    leaderWorkerTemplate: {
      size: o.size ?? 1,
      restartPolicy: o.restartPolicy ?? 'RecreateGroupOnPodRestart',
      workerTemplate: { spec: { containers: [container] } },
      ...(o.leaderContainer ? { leaderTemplate: { spec: { containers: [o.leaderContainer] } } } : {}),
    },
  };
  if (o.startupPolicy) spec.startupPolicy = o.startupPolicy;
  if (o.maxSurge !== undefined || o.maxUnavailable !== undefined || o.partition !== undefined) {
    spec.rolloutStrategy = {
      type: 'RollingUpdate',
      rollingUpdateConfiguration: {
        ...(o.maxSurge !== undefined ? { maxSurge: o.maxSurge } : {}),
        ...(o.maxUnavailable !== undefined ? { maxUnavailable: o.maxUnavailable } : {}),
        ...(o.partition !== undefined ? { partition: o.partition } : {}),
      },
    };
  }
  return {
    apiVersion: 'leaderworkerset.x-k8s.io/v1',
    kind: 'LeaderWorkerSet',
    metadata: {
      name: o.name,
      namespace: 'default',
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec,
  };
}

/** Body of a client-node ApiException (a JSON string), parsed. */
export function errorBody(err: unknown): Record<string, unknown> {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') return JSON.parse(body) as Record<string, unknown>;
  return (body ?? {}) as Record<string, unknown>;
}

export async function expectApiError(
  p: Promise<unknown>,
): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return { code: (err as { code: number }).code, body: errorBody(err) };
  }
  throw new Error('expected the call to fail');
}
