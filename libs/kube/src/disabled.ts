// Provided when Kubernetes is not configured: the process boots, and every use says what to set.

import { AppException, ErrorCode } from '@troupe/common';
import type { LeaderWorkerSet } from '@troupe/lws';
import { KubeClient } from './kube-client';
import { KUBE_NOT_CONFIGURED } from './kube-errors';
import type { KubeEvent, LeaderEndpoint, LwsScale, NodeInfo, Pod } from './types';
import { KubeWatchCache } from './watch-cache';

function notConfigured(): never {
  throw new AppException(ErrorCode.DependencyUnavailable, KUBE_NOT_CONFIGURED);
}

export class DisabledKubeClient extends KubeClient {
  readonly configured = false;

  constructor(readonly namespace = 'default') {
    super();
  }

  async applyLws(): Promise<LeaderWorkerSet> {
    notConfigured();
  }
  async getLws(): Promise<LeaderWorkerSet | null> {
    notConfigured();
  }
  async listLws(): Promise<LeaderWorkerSet[]> {
    notConfigured();
  }
  async deleteLws(): Promise<boolean> {
    notConfigured();
  }
  async scaleLws(): Promise<LwsScale> {
    notConfigured();
  }
  async getLwsScale(): Promise<LwsScale> {
    notConfigured();
  }
  async applyLwsReplicas(): Promise<LeaderWorkerSet> {
    notConfigured();
  }
  async applySecret(): Promise<void> {
    notConfigured();
  }
  async deleteSecret(): Promise<boolean> {
    notConfigured();
  }
  async applyService(): Promise<void> {
    notConfigured();
  }
  async deleteService(): Promise<boolean> {
    notConfigured();
  }
  async ensureNamespace(): Promise<boolean> {
    notConfigured();
  }
  async listPods(): Promise<Pod[]> {
    notConfigured();
  }
  async listEvents(): Promise<KubeEvent[]> {
    notConfigured();
  }
  async listNodes(): Promise<NodeInfo[]> {
    notConfigured();
  }
  async lwsApiAvailable(): Promise<boolean> {
    notConfigured();
  }
}

export class DisabledKubeWatchCache extends KubeWatchCache {
  readonly configured = false;

  start(): void {
    notConfigured();
  }
  async synced(): Promise<void> {
    notConfigured();
  }
  async stop(): Promise<void> {
    // nothing was started
  }
  namespaces(): string[] {
    return [];
  }
  getLws(): LeaderWorkerSet | undefined {
    notConfigured();
  }
  listLws(): LeaderWorkerSet[] {
    notConfigured();
  }
  podsOf(): Pod[] {
    notConfigured();
  }
  readyLeaders(): LeaderEndpoint[] {
    notConfigured();
  }
  onChange(): () => void {
    notConfigured();
  }
}
