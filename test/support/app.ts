import { randomBytes } from 'node:crypto';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig, loadConfig } from '@troupe/config';
import pino from 'pino';
import { inject } from 'vitest';
import { createApp } from '../../apps/server/src/app.factory';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  config: AppConfig;
  adminKey: string;
  /** fetch against the app with an optional key and JSON body. */
  call(
    method: string,
    path: string,
    opts?: { key?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  text: string;
}

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    TROUPE_ADMIN_KEY: `troupe_${randomBytes(24).toString('base64url')}`,
    QUEUE_PREFIX: `troupe-test-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    ...overrides,
  };
}

/** The real server (same factory as main.ts) on a real socket, against the run's database and Redis. */
export async function startTestApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const env = testEnv(overrides);
  const config = loadConfig(env);
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = await app.getUrl();
  return {
    app,
    url,
    config,
    adminKey: env.TROUPE_ADMIN_KEY,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.key) headers.authorization = `Bearer ${opts.key}`;
      let body: string | Uint8Array | undefined;
      if (opts.body instanceof Uint8Array) {
        headers['content-type'] ??= 'application/octet-stream';
        body = opts.body;
      } else if (opts.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      }
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    close: () => app.close(),
  };
}

/** A new project (name `<prefix>-<random>`) with one key per role asked for, made by the admin key. */
export async function createProject<R extends 'member' | 'inference' | 'admin'>(
  t: TestApp,
  prefix: string,
  roles: readonly R[],
): Promise<{ id: string; name: string; keys: Record<R, { key: string; id: string }> }> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const project = await t.call('POST', '/api/v1/projects', { key: t.adminKey, body: { name } });
  if (project.status !== 201) throw new Error(`create project: ${project.status} ${project.text}`);
  const keys = {} as Record<R, { key: string; id: string }>;
  for (const role of roles) {
    const r = await t.call('POST', '/api/v1/api-keys', {
      key: t.adminKey,
      body: { name: role, role, ...(role === 'admin' ? {} : { projectId: project.body.id }) },
    });
    if (r.status !== 201) throw new Error(`create ${role} key: ${r.status} ${r.text}`);
    keys[role] = { key: r.body.key, id: r.body.id };
  }
  return { id: project.body.id, name, keys };
}

/** Creates version `version` of model `model` with `key`; fails the test otherwise. */
export async function createVersion(t: TestApp, key: string, model: string, version: string): Promise<void> {
  const v = await t.call('POST', `/api/v1/models/${model}/versions`, { key, body: { version } });
  if (v.status !== 201) throw new Error(`create version: ${v.status} ${v.text}`);
}

/** Creates model `model` (when missing) and its version `version` with `key`; fails the test otherwise. */
export async function createModelVersion(
  t: TestApp,
  key: string,
  model: string,
  version: string,
): Promise<void> {
  const m = await t.call('POST', '/api/v1/models', { key, body: { name: model } });
  if (m.status !== 201 && m.status !== 409) throw new Error(`create model: ${m.status} ${m.text}`);
  await createVersion(t, key, model, version);
}
