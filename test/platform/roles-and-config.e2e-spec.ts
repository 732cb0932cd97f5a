import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';

const root = path.resolve(__dirname, '../..');

function runServer(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'apps/server/src/main.ts'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('process roles', () => {
  it('a worker-only process serves health and metrics but no API routes', async () => {
    const t = await startTestApp({ ROLES: 'worker' });
    try {
      expect((await t.call('GET', '/healthz')).status).toBe(200);
      expect((await t.call('GET', '/metrics')).status).toBe(200);
      expect((await t.call('GET', '/api/v1/projects', { key: t.adminKey })).status).toBe(404);
      expect((await t.call('GET', '/v1/models', { key: t.adminKey })).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('an api-only process has no gateway routes, a gateway-only process no management routes', async () => {
    const api = await startTestApp({ ROLES: 'api' });
    const gw = await startTestApp({ ROLES: 'gateway' });
    try {
      expect((await api.call('GET', '/api/v1/projects', { key: api.adminKey })).status).toBe(200);
      expect((await api.call('GET', '/v1/models', { key: api.adminKey })).status).toBe(404);
      expect((await gw.call('GET', '/v1/models', { key: gw.adminKey })).status).toBe(200);
      expect((await gw.call('GET', '/api/v1/projects', { key: gw.adminKey })).status).toBe(404);
    } finally {
      await Promise.all([api.close(), gw.close()]);
    }
  });
});

describe('configuration errors at boot', () => {
  it('exits non-zero naming each bad or missing variable', async () => {
    const { code, stderr } = await runServer({ PORT: 'eighty', ROLES: 'api,scheduler' });
    expect(code).toBe(78);
    expect(stderr).toContain('Invalid configuration');
    expect(stderr).toMatch(/PORT: must be a whole number \(got "eighty"\)/);
    expect(stderr).toMatch(/ROLES: each role must be one of api, gateway, worker/);
    expect(stderr).toMatch(/DATABASE_URL is required/);
    expect(stderr).toMatch(/REDIS_URL is required/);
  });

  it('refuses to start when PostgreSQL is unreachable, saying so', async () => {
    await expect(startTestApp({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' })).rejects.toThrow(
      /PostgreSQL is unreachable/,
    );
  });
});
