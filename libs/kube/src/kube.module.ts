import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@troupe/config';
import { DisabledKubeClient, DisabledKubeWatchCache } from './disabled';
import { ClusterKubeClient, KubeClient } from './kube-client';
import { ClusterWatchCache, KubeWatchCache } from './watch-cache';

export function createKubeClient(config: AppConfig): KubeClient {
  return config.kube ? ClusterKubeClient.fromSettings(config.kube) : new DisabledKubeClient();
}

export function createKubeWatchCache(client: KubeClient): KubeWatchCache {
  return client instanceof ClusterKubeClient
    ? new ClusterWatchCache(client.resourceSource())
    : new DisabledKubeWatchCache();
}

/**
 * Provides `KubeClient` and `KubeWatchCache` from config: the cluster's when KUBECONFIG or
 * KUBE_IN_CLUSTER is set, else implementations answering DependencyUnavailable on use, so the process
 * boots without a cluster. Nothing is watched until a role calls `KubeWatchCache.start(namespaces)`;
 * watches stop at shutdown.
 */
@Global()
@Module({
  providers: [
    { provide: KubeClient, inject: [APP_CONFIG], useFactory: createKubeClient },
    { provide: KubeWatchCache, inject: [KubeClient], useFactory: createKubeWatchCache },
  ],
  exports: [KubeClient, KubeWatchCache],
})
export class KubeModule implements OnApplicationShutdown {
  constructor(private readonly cache: KubeWatchCache) {}

  async onApplicationShutdown(): Promise<void> {
    await this.cache.stop();
  }
}
