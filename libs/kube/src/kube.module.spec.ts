import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppException, ErrorCode } from '@troupe/common';
import { AppConfig, ConfigModule } from '@troupe/config';
import { describe, expect, it } from 'vitest';
import { DisabledKubeClient, DisabledKubeWatchCache } from './disabled';
import { ClusterKubeClient, KubeClient } from './kube-client';
import { KUBE_NOT_CONFIGURED } from './kube-errors';
import { KubeModule } from './kube.module';
import { ClusterWatchCache, KubeWatchCache } from './watch-cache';

async function context(cfg: Partial<AppConfig>) {
  @Module({ imports: [ConfigModule.forRoot(cfg as AppConfig), KubeModule] })
  class Root {}
  return NestFactory.createApplicationContext(Root, { logger: false });
}

describe('KubeModule', () => {
  it('boots without Kubernetes; every use says what to set', async () => {
    const app = await context({});
    const client = app.get(KubeClient);
    const cache = app.get(KubeWatchCache);
    expect(client).toBeInstanceOf(DisabledKubeClient);
    expect(cache).toBeInstanceOf(DisabledKubeWatchCache);
    expect(client.configured).toBe(false);
    const err = await client.getLws('ns', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppException);
    expect(err).toMatchObject({ code: ErrorCode.DependencyUnavailable, message: KUBE_NOT_CONFIGURED });
    await expect(client.lwsApiAvailable()).rejects.toThrow(KUBE_NOT_CONFIGURED);
    expect(() => cache.readyLeaders('ns', 'x')).toThrow(KUBE_NOT_CONFIGURED);
    expect(() => cache.start(['ns'])).toThrow(KUBE_NOT_CONFIGURED);
    await app.close();
  });

  it('builds the cluster client from a kubeconfig, and starts no watch by itself', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-module-'));
    const file = path.join(dir, 'kubeconfig.yaml');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "http://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
        'contexts: [{name: c, context: {cluster: c, user: u}}]',
        'users: [{name: u, user: {}}]',
        'current-context: c',
      ].join('\n'),
    );
    try {
      const app = await context({ kube: { kubeconfigPath: file, inCluster: false, namespace: 'team-a' } });
      const client = app.get(KubeClient);
      const cache = app.get(KubeWatchCache);
      expect(client).toBeInstanceOf(ClusterKubeClient);
      expect(client.namespace).toBe('team-a');
      expect(cache).toBeInstanceOf(ClusterWatchCache);
      expect(cache.namespaces()).toEqual([]);
      await app.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
