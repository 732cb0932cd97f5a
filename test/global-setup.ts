import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { applyMigrations } from '../libs/db/src/migrator';
import {
  createDatabaseIfMissing,
  dropDatabase,
  startControlPlane,
  startStack,
  type ControlPlane,
} from '../libs/testing/src';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    adminDatabaseUrl: string;
    /** `TROUPE_TEST_CLUSTER=kube`: the upstream control plane of this run. */
    kubeControlPlane: { url: string; kubeconfigPath: string; token: string; caPath: string } | undefined;
  }
}

/**
 * e2e runs get real PostgreSQL and Redis (found or started like `npm run dev` does) and a fresh
 * database, migrated from empty, dropped at the end. With `TROUPE_TEST_CLUSTER=kube` they also get
 * one upstream control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, the LWS
 * controller; built from pinned Go modules on first use), shared by the files of the run: each file
 * brings its own GPU nodes with the node agent (test/support/cluster.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = path.resolve(__dirname, '..');
  const stack = await startStack({
    dataDir: path.join(root, '.troupe', 'test'),
    env: { DATABASE_URL: process.env.TEST_DATABASE_ADMIN_URL, REDIS_URL: process.env.TEST_REDIS_URL },
    database: 'postgres',
  });
  const adminUrl = stack.databaseUrl;
  const dbName = `troupe_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await createDatabaseIfMissing(adminUrl, dbName);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  await applyMigrations(databaseUrl);

  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', stack.redisUrl);
  project.provide('adminDatabaseUrl', adminUrl);

  let controlPlane: ControlPlane | undefined;
  if (process.env.TROUPE_TEST_CLUSTER === 'kube') {
    const t0 = Date.now();
    controlPlane = await startControlPlane({
      dir: path.join(root, '.troupe', 'test-kube', `${Date.now()}-${randomBytes(2).toString('hex')}`),
      log: (m) => console.log(`[controlplane] ${m}`),
    }).catch(async (err: unknown) => {
      await stack.stop();
      throw err;
    });
    console.log(`[controlplane] ready for the e2e run in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  project.provide(
    'kubeControlPlane',
    controlPlane && {
      url: controlPlane.url,
      kubeconfigPath: controlPlane.kubeconfigPath,
      token: controlPlane.token,
      caPath: controlPlane.caPath,
    },
  );

  return async () => {
    await controlPlane?.stop();
    await dropDatabase(adminUrl, dbName).catch((err: Error) =>
      console.warn(`could not drop ${dbName}: ${err.message}`),
    );
    await stack.stop();
  };
}
