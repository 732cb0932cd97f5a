import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckpoint } from '../../libs/core/src/models/verification';
import { createProject, startTestApp, TestApp } from '../support/app';
import { uploadAndVerify } from '../support/checkpoint';
import { startTestS3, TestS3 } from '../support/s3';
import { runCli } from './cli-runner';

/** `troupe services scale|autoscaling|events` against the real server. */
describe('CLI: services scale and autoscaling', () => {
  let s3: TestS3;
  let t: TestApp;
  let env: Record<string, string>;
  let tmp: string;

  beforeAll(async () => {
    s3 = await startTestS3();
    // No cluster: the API stores and shows scaling; the reconcile jobs fail and retry, which is fine here.
    t = await startTestApp({ ...s3.env, AUTOSCALER_MAX_MANUAL_REPLICAS: '10' });
    const member = (await createProject(t, 'cli', ['member'])).keys.member.key;
    await t.call('POST', '/api/v1/models', { key: member, body: { name: 'tiny' } });
    const files = buildCheckpoint({ layers: 4, hidden: 64, heads: 16, kvHeads: 8, shards: 1 });
    expect((await uploadAndVerify(t, member, 'tiny', 'v1', files)).state).toBe('READY');
    const created = await t.call('POST', '/api/v1/services', {
      key: member,
      body: {
        name: 'llm',
        model: 'tiny',
        version: 'v1',
        parallelism: { tensor: 8, pipeline: 1 },
        gpusPerNode: 8,
        engine: { image: 'vllm/vllm-openai:v0.11.0' },
      },
    });
    expect(created.status).toBe(202);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'troupe-cli-scaling-'));
    env = { TROUPE_CONFIG: path.join(tmp, 'config.json'), TROUPE_URL: t.url, TROUPE_KEY: member };
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('shows that the spec sets the groups before any policy', async () => {
    const r = await runCli(['services', 'autoscaling', 'llm'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('groups set by the spec');
    expect(r.stdout).toContain('policy: none');
  });

  it('sets a policy from flags; the server merges and shows it', async () => {
    const r = await runCli(
      [
        'services',
        'autoscaling',
        'llm',
        '--enable',
        '--min',
        '1',
        '--max',
        '3',
        '--metric',
        'waiting',
        '--target',
        '2',
      ],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('groups set by the autoscaler');
    expect(r.stdout).toContain('1..3 groups, waiting target 2 per group');
    const json = await runCli(['--json', 'services', 'autoscaling', 'llm', '--stable-window', '120'], env);
    expect(JSON.parse(json.stdout).scaling.policy).toMatchObject({
      metric: 'waiting',
      target: 2,
      stableWindowSeconds: 120,
    });
  });

  it('reports a policy the server refuses, naming the field', async () => {
    const r = await runCli(['services', 'autoscaling', 'llm', '--min', '5'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/minReplicas/);
  });

  it('refuses a bad flag before calling the server', async () => {
    const r = await runCli(['services', 'autoscaling', 'llm', '--metric', 'tokens'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/concurrency, waiting, kvCache/);
  });

  it('scale pins the service and pauses autoscaling; --enable resumes', async () => {
    const r = await runCli(['services', 'scale', 'llm', '2'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pinned llm at 2 group(s)');
    expect(r.stdout).toContain('an admin (pinned at 2; autoscaling paused)');
    const show = await runCli(['services', 'show', 'llm'], env);
    expect(show.stdout).toContain('scaling: admin (pinned at 2)');
    const tooMany = await runCli(['services', 'scale', 'llm', '11'], env);
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.stderr).toMatch(/replicas/);
    const resumed = await runCli(['services', 'autoscaling', 'llm', '--enable'], env);
    expect(resumed.stdout).toContain('groups set by the autoscaler');
  });

  it('events list the scaling history', async () => {
    const r = await runCli(['services', 'events', 'llm'], env);
    expect(r.code).toBe(0);
    for (const reason of ['AutoscalingEnabled', 'ScaledManually']) expect(r.stdout).toContain(reason);
    expect(r.stdout).toMatch(/pinned at 2 group\(s\)/);
  });

  it('--disable gives the groups back to the spec', async () => {
    const r = await runCli(['services', 'autoscaling', 'llm', '--disable'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('groups set by the spec');
    expect(r.stdout).toContain('policy (off)');
  });
});
