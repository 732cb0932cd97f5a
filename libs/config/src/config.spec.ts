import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, loadConfig } from './config';

const base = { DATABASE_URL: 'postgresql://u@localhost:5432/db', REDIS_URL: 'redis://localhost:6379' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig(base);
    expect(c.http).toEqual({ host: '0.0.0.0', port: 3000, bodyLimitBytes: 1 << 20 });
    expect([...c.roles]).toEqual(['api', 'gateway', 'worker']);
    expect(c.s3).toBeUndefined();
    expect(c.kube).toBeUndefined();
  });

  it('names every missing required variable at once', () => {
    const problems = problemsOf({});
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^DATABASE_URL is required/);
    expect(problems[1]).toMatch(/^REDIS_URL is required/);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT: must be a whole number \(got "abc"\)/],
    [{ PORT: '70000' }, /^PORT: must be <= 65535/],
    [{ ROLES: 'api,cron' }, /^ROLES: each role must be one of api, gateway, worker/],
    [{ ROLES: ' , ' }, /^ROLES: at least one role/],
    [
      { DATABASE_URL: 'mysql://x' },
      /^DATABASE_URL: must be a URL starting with postgres:\/\/ or postgresql:\/\/ \(invalid value\)/,
    ],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ TROUPE_ADMIN_KEY: 'troupe_short' }, /^TROUPE_ADMIN_KEY: must be troupe_ followed by at least 22/],
    [{ LOG_PRETTY: 'maybe' }, /^LOG_PRETTY: must be true or false/],
  ])('rejects %j', (override, pattern) => {
    const problems = problemsOf({ ...base, ...override });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(pattern);
  });

  it('never echoes secret values', () => {
    const problems = problemsOf({ ...base, TROUPE_ADMIN_KEY: 'troupe_hunter2' });
    expect(problems.join()).not.toContain('hunter2');
  });

  it('parses roles', () => {
    expect([...loadConfig({ ...base, ROLES: 'worker' }).roles]).toEqual(['worker']);
    expect([...loadConfig({ ...base, ROLES: 'gateway, api' }).roles]).toEqual(['gateway', 'api']);
  });

  it('validates the S3 group only when it is used, and then as a whole', () => {
    expect(problemsOf({ ...base, S3_ENDPOINT: 'http://127.0.0.1:9000' })).toEqual([
      expect.stringMatching(/^S3_ACCESS_KEY is required when object storage is configured/),
      expect.stringMatching(/^S3_SECRET_KEY is required when object storage is configured/),
    ]);
    const c = loadConfig({
      ...base,
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY: 'a',
      S3_SECRET_KEY: 'b',
    });
    expect(c.s3).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      accessKey: 'a',
      secretKey: 'b',
      bucket: 'troupe-models',
    });
  });

  it('validates the Kubernetes group only when it is used', () => {
    expect(problemsOf({ ...base, KUBECONFIG: '/nonexistent/kubeconfig' })).toEqual([
      'KUBECONFIG: file not found (got "/nonexistent/kubeconfig")',
    ]);
    const file = path.join(tmpdir(), `kubeconfig-${process.pid}`);
    writeFileSync(file, 'apiVersion: v1\n');
    expect(loadConfig({ ...base, KUBECONFIG: file, KUBE_NAMESPACE: 'llm' }).kube).toEqual({
      kubeconfigPath: file,
      inCluster: false,
      namespace: 'llm',
    });
    expect(problemsOf({ ...base, KUBECONFIG: file, KUBE_IN_CLUSTER: 'true' })[0]).toMatch(/exclusive/);
  });
});
