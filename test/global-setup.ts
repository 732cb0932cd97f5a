import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { applyMigrations } from '../libs/db/src/migrator';
import { createDatabaseIfMissing, dropDatabase, startStack } from '../libs/testing/src';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    adminDatabaseUrl: string;
  }
}

/**
 * e2e runs get real PostgreSQL and Redis (found or started like `npm run dev` does) and a fresh
 * database, migrated from empty, dropped at the end.
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

  return async () => {
    await dropDatabase(adminUrl, dbName).catch((err: Error) =>
      console.warn(`could not drop ${dbName}: ${err.message}`),
    );
    await stack.stop();
  };
}
