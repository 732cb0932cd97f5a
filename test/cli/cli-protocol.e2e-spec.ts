import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startCli, until, writeCheckpoint } from './cli-runner';
import { FakeServer } from './fake-server';

/**
 * The CLI's protocol handling against an in-memory implementation of the upload API (fake-server.ts):
 * login and errors, parallel parts, retries of dropped parts, Ctrl-C and resume, sessions that are
 * gone, files already there, verification failures. The real server: cli.e2e-spec.ts.
 */

const KiB = 1024;
const MEMBER = 'troupe_member-key';
const INFERENCE = 'troupe_inference-key';
const ADMIN = 'troupe_admin-key';
// Files from 256 KiB go through sessions of 64 KiB parts here (64 MiB with the real defaults).
const SMALL = ['--small-file-limit', String(256 * KiB)];

describe('troupe CLI against the upload API contract (in-memory server)', () => {
  let server: FakeServer;
  let tmp: string;
  let env: Record<string, string>;
  let ckpt: string;
  let sums: Map<string, string>;

  beforeAll(() => {
    ckpt = mkdtempSync(path.join(os.tmpdir(), 'troupe-ckpt-'));
    sums = writeCheckpoint(ckpt, [
      { path: 'config.json', size: 0, content: '{"architectures":["FakeForCausalLM"]}' },
      { path: 'tokenizer/tokenizer.json', size: 100 * KiB },
      { path: 'tokenizer/added_tokens.json', size: 0, content: '' },
      { path: 'model-00001-of-00002.safetensors', size: 1024 * KiB + 123 },
      { path: 'model-00002-of-00002.safetensors', size: 700 * KiB },
    ]);
    writeFileSync(path.join(ckpt, '.gitattributes'), 'hidden');
  });

  beforeEach(async () => {
    server = new FakeServer({
      keys: { [MEMBER]: 'member', [INFERENCE]: 'inference', [ADMIN]: 'admin' },
      partSize: 64 * KiB,
    });
    await server.start();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'troupe-cli-'));
    env = { TROUPE_CONFIG: path.join(tmp, 'config.json') };
  });

  afterEach(async () => {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  afterAll(() => rmSync(ckpt, { recursive: true, force: true }));

  const login = async () => {
    const r = await runCli(['login', '--url', server.url, '--key', MEMBER], env);
    expect(r.code, r.stderr).toBe(0);
    const m = await runCli(['models', 'create', 'demo'], env);
    expect(m.code, m.stderr).toBe(0);
  };

  const upload = (...extra: string[]) => [
    'models',
    'upload',
    ckpt,
    '--model',
    'demo',
    '--version',
    'v1',
    ...SMALL,
    '--poll-interval-ms',
    '50',
    ...extra,
  ];

  function expectUploaded(): void {
    const v = server.version('demo', 'v1')!;
    expect(v.state).toBe('READY');
    expect(new Map([...v.files.values()].map((f) => [f.path, f.sha256]))).toEqual(sums);
  }

  it('login checks the key, stores url and key with mode 0600; env overrides the file', async () => {
    const r = await runCli(
      ['login', '--url', `${server.url}/`, '--key', MEMBER, '--project', server.projectId],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('logged in');
    expect(statSync(env.TROUPE_CONFIG).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(env.TROUPE_CONFIG, 'utf8'))).toEqual({
      url: server.url,
      key: MEMBER,
      projectId: server.projectId,
    });

    const list = await runCli(['--json', 'models', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ data: [] });

    const overridden = await runCli(['models', 'list'], { ...env, TROUPE_KEY: 'troupe_wrong' });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toMatch(
      /^error: Invalid, expired or revoked API key \(request [0-9a-f-]{36}\)$/m,
    );
  });

  it('login says when a key is inference-only, refuses a bad key, and names an unreachable server', async () => {
    const inf = await runCli(['login', '--url', server.url, '--key', INFERENCE], env);
    expect(inf.code).toBe(0);
    expect(inf.stdout).toContain('inference-only');

    const bad = await runCli(['login', '--url', server.url, '--key', 'troupe_nope'], {
      TROUPE_CONFIG: path.join(tmp, 'b.json'),
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /error: the server refused the key: Invalid, expired or revoked API key \(request /,
    );
    expect(existsSync(path.join(tmp, 'b.json'))).toBe(false);

    const port = await closedPort();
    const down = await runCli(['login', '--url', `http://127.0.0.1:${port}`, '--key', MEMBER], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`error: cannot reach http://127.0.0.1:${port}: connection refused`);

    const none = await runCli(['models', 'list'], { TROUPE_CONFIG: path.join(tmp, 'none.json') });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('not logged in');
  });

  it('models create, list, show, versions create; server validation errors list their issues', async () => {
    await login();
    const bad = await runCli(['models', 'create', 'Not_Valid'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error: Invalid request \(request .+\)\n {2}- name: must be a DNS label/);
    const dup = await runCli(['models', 'create', 'demo'], env);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already exists');

    const v = await runCli(['--json', 'models', 'versions', 'create', 'demo', 'v0'], env);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ version: 'v0', state: 'UPLOADING' });

    const list = await runCli(['models', 'list'], env);
    expect(list.stdout).toMatch(/^NAME {2}ID .*\ndemo {2}/);
    const show = await runCli(['models', 'show', 'demo'], env);
    expect(show.stdout).toContain('version v0: UPLOADING, 0 files');
    const json = JSON.parse((await runCli(['--json', 'models', 'show', 'demo'], env)).stdout);
    expect(json).toMatchObject({
      name: 'demo',
      versions: [{ version: 'v0', state: 'UPLOADING', files: [] }],
    });
    const missing = await runCli(['models', 'show', 'nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: Model nope not found \(request /);
  });

  it('uploads a checkpoint: small files in one request, large ones in parallel parts, then waits for READY', async () => {
    await login();
    server.partDelayMs = 20;
    const r = await runCli(['--json', ...upload('--parallel', '3')], env);
    expect(r.code, r.stderr).toBe(0);
    expectUploaded();
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ version: 'v1', state: 'READY', metadata: { fileCount: 5 } });
    // 1024 KiB + 123 B -> 17 parts, 700 KiB -> 11 parts.
    expect(out.stats).toMatchObject({
      filesUploaded: 5,
      filesSkipped: 0,
      partsSent: 28,
      partsResumed: 0,
      sessionsCreated: 2,
    });
    expect(server.maxPartsInFlight).toBe(3);
    const smallPuts = server.log.filter((l) => l.method === 'PUT' && l.path.includes('/files/'));
    expect(smallPuts.map((l) => l.path).sort()).toEqual([
      '/api/v1/models/demo/versions/v1/files/config.json',
      '/api/v1/models/demo/versions/v1/files/tokenizer/added_tokens.json',
      '/api/v1/models/demo/versions/v1/files/tokenizer/tokenizer.json',
    ]);
    expect(r.stderr).toContain('not uploading 1 hidden entry: .gitattributes');
    expect(r.stderr).toMatch(/uploaded [\d.]+ (KiB|MiB) \/ [\d.]+ (KiB|MiB) \(100%\)/); // the plain progress line (no TTY)
    expect(r.stderr).not.toContain('\x1b[');
    expect(existsSync(path.join(tmp, 'uploads', 'demo-v1.json'))).toBe(false);

    // Again: every file is there with its size, nothing is sent.
    const again = await runCli(['--json', ...upload()], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).stats).toMatchObject({ filesSkipped: 5, partsSent: 0 });
    expect(again.stderr).toContain('already READY');
  });

  it('retries a dropped part and a 500, and gives up after the retries with a resumable state', async () => {
    await login();
    server.partFault = (n, attempt) =>
      n === 2 && attempt === 1 ? 'drop' : n === 5 && attempt <= 2 ? 'error500' : undefined;
    const ok = await runCli(upload('--retry-delay-ms', '10'), env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/model-0000\d-of-00002\.safetensors part 2\/\d+: .*connection.*; retry 1\/5/);
    expect(ok.stderr).toMatch(/part 5\/\d+: Internal error \(request .+\); retry 2\/5/);
    expectUploaded();

    // A connection that keeps dropping: 5 retries, then stop with the state saved.
    server.models.get('demo')!.versions.delete('v1');
    server.partFault = (n) => (n >= 4 ? 'drop' : undefined);
    const failed = await runCli(upload('--retry-delay-ms', '5', '--parallel', '1'), env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/retry 5\/5/);
    expect(failed.stderr).toContain('run the same command again to resume');
    expect(existsSync(path.join(tmp, 'uploads', 'demo-v1.json'))).toBe(true);

    server.partFault = () => undefined;
    const before = server.partsStored();
    const resumed = await runCli(['--json', ...upload()], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const stats = JSON.parse(resumed.stdout).stats;
    expect(stats.partsResumed).toBeGreaterThanOrEqual(3);
    expect(stats.partsSent + stats.partsResumed).toBe(28);
    expect(server.partsStored() - before).toBe(stats.partsSent);
    expectUploaded();
  });

  it('Ctrl-C stops at once (exit 130) and the same command resumes with the missing parts only', async () => {
    await login();
    server.partDelayMs = 40;
    const cli = startCli(upload('--parallel', '2'), env);
    await until(() => server.partsStored() >= 6, 60_000, 'six parts stored');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted; run the same command again to resume');
    const state = JSON.parse(readFileSync(path.join(tmp, 'uploads', 'demo-v1.json'), 'utf8'));
    const [entry] = Object.values(state.files) as { uploadId: string; size: number }[];
    expect(server.uploads.get(entry.uploadId)?.state).toBe('ACTIVE');
    // Parts whose bytes all arrived before the client died are still stored by the server (as a
    // real one would): count from when none is pending.
    await until(() => server.partsPending === 0, 10_000, 'no part pending on the server');
    const storedBefore = server.partsStored();

    server.partDelayMs = 0;
    const again = await runCli(['--json', ...upload('--parallel', '2')], env);
    expect(again.code, again.stderr).toBe(0);
    const stats = JSON.parse(again.stdout).stats;
    expect(stats.sessionsResumed).toBeGreaterThanOrEqual(1);
    expect(stats.partsResumed).toBeGreaterThanOrEqual(6);
    expect(stats.partsSent).toBeLessThan(28);
    // Only what was missing went out; nothing twice.
    expect(server.partsStored() - storedBefore).toBe(stats.partsSent);
    expectUploaded();
  });

  it('starts a new session when the saved one is gone, or when a part says it is, or when the file changed', async () => {
    await login();
    server.partDelayMs = 30;
    const cli = startCli(upload('--parallel', '1'), env);
    await until(() => server.partsStored() >= 3, 60_000, 'three parts stored');
    cli.child.kill('SIGINT');
    expect((await cli.done).code).toBe(130);
    server.partDelayMs = 0;

    // The session expired on the server.
    const state = JSON.parse(readFileSync(path.join(tmp, 'uploads', 'demo-v1.json'), 'utf8'));
    for (const f of Object.values(state.files) as { uploadId: string }[]) server.uploads.delete(f.uploadId);
    // And the new session is aborted under the CLI's feet at its part 3.
    let abortedOnce = false;
    server.partFault = (n) => {
      if (n === 3 && !abortedOnce) {
        abortedOnce = true;
        return 'gone';
      }
      return undefined;
    };
    const r = await runCli(['--json', ...upload('--parallel', '1')], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('the earlier upload session expired or was aborted; starting a new one');
    expect(r.stderr).toContain('the upload session expired or was aborted; starting a new one');
    expectUploaded();
  });

  it('starts a file over when it changed since the interrupted run', async () => {
    await login();
    const dir = mkdtempSync(path.join(tmp, 'ckpt-'));
    writeCheckpoint(dir, [
      { path: 'config.json', size: 0, content: '{}' },
      { path: 'big.bin', size: 1024 * KiB },
    ]);
    server.partDelayMs = 30;
    const args = ['models', 'upload', dir, '--model', 'demo', '--version', 'v2', ...SMALL, '--parallel', '1'];
    const cli = startCli(args, env);
    await until(() => server.partsStored() >= 2, 60_000, 'two parts stored');
    cli.child.kill('SIGINT');
    expect((await cli.done).code).toBe(130);
    server.partDelayMs = 0;
    const sums2 = writeCheckpoint(dir, [{ path: 'big.bin', size: 1024 * KiB }]);
    utimesSync(path.join(dir, 'big.bin'), new Date(), new Date(Date.now() + 5000));
    const r = await runCli(['--json', ...args], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('big.bin changed since the interrupted upload; starting it over');
    expect(JSON.parse(r.stdout).stats).toMatchObject({ partsResumed: 0, partsSent: 16 });
    expect(server.version('demo', 'v2')!.files.get('big.bin')!.sha256).toBe(sums2.get('big.bin'));
  });

  it('prints the reason and exits 1 when verification fails; the fixed checkpoint then goes into the same version', async () => {
    await login();
    const dir = mkdtempSync(path.join(tmp, 'ckpt-'));
    writeCheckpoint(dir, [{ path: 'weights.bin', size: 10 }]);
    const args = ['models', 'upload', dir, '--model', 'demo', '--version', 'bad', '--poll-interval-ms', '50'];
    const r = await runCli(args, env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('demo/bad: FAILED: config.json is missing');
    expect(r.stderr).toContain(
      'error: verification failed: config.json is missing: add it and upload to a new version',
    );

    writeCheckpoint(dir, [{ path: 'config.json', size: 0, content: '{}' }]);
    const again = await runCli(['--json', ...args], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('demo/bad FAILED verification (config.json is missing');
    expect(JSON.parse(again.stdout)).toMatchObject({
      state: 'READY',
      stats: { filesUploaded: 1, filesSkipped: 1 },
    });

    const noModel = await runCli(['models', 'upload', dir, '--model', 'ghost', '--version', 'v1'], env);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toContain('hint: create the model first: troupe models create ghost');
  });

  describe('services', () => {
    const readyVersion = async () => {
      await login();
      const v = await runCli(['models', 'versions', 'create', 'demo', 'v1'], env);
      expect(v.code, v.stderr).toBe(0);
      server.version('demo', 'v1')!.state = 'READY';
    };
    const create = (name: string, ...extra: string[]) => [
      'services',
      'create',
      name,
      '--model',
      'demo',
      '--version',
      'v1',
      '--image',
      'vllm/vllm-openai:v0.9.0',
      ...extra,
    ];
    const posts = () => server.serviceRequests.filter((r) => r.method === 'POST');

    it('create sends the body built from the flags (repeated --arg and --env); list, show, events, manifest, delete', async () => {
      await readyVersion();
      const r = await runCli(
        create(
          'llama',
          '--tp',
          '8',
          '--pp',
          '2',
          '--gpus-per-node',
          '8',
          '--gpu-type',
          'H100-80GB',
          '--replicas',
          '2',
          '--min',
          '1',
          '--max',
          '4',
          '--served-name',
          'llama-3',
          '--namespace',
          'serving',
          '--max-model-len',
          '32768',
          '--arg=--enable-prefix-caching',
          '--arg',
          '--kv-cache-dtype=fp8',
          '--env',
          'VLLM_LOGGING_LEVEL=DEBUG',
          '--env=NCCL_IB_HCA=mlx5_0,mlx5_1',
          '--exclusive-topology',
          'rack',
        ),
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('created service llama (PENDING)');
      expect(posts()).toHaveLength(1);
      expect(posts()[0].path).toBe('/api/v1/services');
      expect(posts()[0].query).toEqual({});
      expect(posts()[0].body).toEqual({
        name: 'llama',
        model: 'demo',
        version: 'v1',
        servedModelName: 'llama-3',
        namespace: 'serving',
        parallelism: { tensor: 8, pipeline: 2 },
        gpusPerNode: 8,
        gpu: { type: 'H100-80GB' },
        replicas: { initial: 2, min: 1, max: 4 },
        engine: {
          image: 'vllm/vllm-openai:v0.9.0',
          extraArgs: ['--enable-prefix-caching', '--kv-cache-dtype=fp8'],
          env: { VLLM_LOGGING_LEVEL: 'DEBUG', NCCL_IB_HCA: 'mlx5_0,mlx5_1' },
          maxModelLen: 32768,
        },
        placement: { exclusiveTopology: 'rack' },
      });

      // Only the flags given: the server fills in the rest.
      const minimal = await runCli(['--json', ...create('small')], env);
      expect(minimal.code, minimal.stderr).toBe(0);
      expect(posts()[1].body).toEqual({
        name: 'small',
        model: 'demo',
        version: 'v1',
        engine: { image: 'vllm/vllm-openai:v0.9.0' },
      });
      expect(JSON.parse(minimal.stdout)).toMatchObject({ name: 'small', status: { phase: 'PENDING' } });

      const list = await runCli(['services', 'list'], env);
      expect(list.code, list.stderr).toBe(0);
      const rows = list.stdout.trimEnd().split('\n');
      expect(rows[0]).toMatch(/^NAME +MODEL +PHASE +READY +AGE$/);
      expect(rows[1]).toMatch(/^llama +demo\/v1 +PENDING +0\/2 +1m$/);
      expect(rows[2]).toMatch(/^small +demo\/v1 +PENDING +0\/1 +1m$/);

      // The fake moves one step per GET: DEPLOYING, then READY with one group up.
      expect((await runCli(['services', 'show', 'small'], env)).stdout).toContain('phase: DEPLOYING');
      const show = await runCli(['services', 'show', 'llama'], env);
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toContain('service llama (namespace serving)');
      expect(show.stdout).toContain('phase: DEPLOYING');
      const ready = await runCli(['services', 'show', 'llama'], env);
      expect(ready.stdout).toContain('phase: READY');
      expect(ready.stdout).toContain('groups: 1/2 ready');
      expect(ready.stdout).toContain('layout: TP 8 x PP 2, 8 H100-80GB GPUs per pod');
      expect(ready.stdout).toMatch(/endpoints:\n +GROUP +POD +ADDRESS\n +0 +llama-0 +10\.0\.0\.10:8000/);
      expect(ready.stdout).toContain('last error: -');
      const listed = await runCli(['--json', 'services', 'list'], env);
      expect(JSON.parse(listed.stdout).data.map((s: { name: string }) => s.name)).toEqual(['llama', 'small']);

      const events = await runCli(['services', 'events', 'llama'], env);
      expect(events.code, events.stderr).toBe(0);
      expect(events.stdout).toMatch(
        /^TIME +TYPE +REASON +MESSAGE\n.+Normal +Created +service created\n.+Applied/,
      );

      const manifest = await runCli(['services', 'manifest', 'llama'], env);
      expect(manifest.code, manifest.stderr).toBe(0);
      expect(manifest.stdout).toContain('kind: LeaderWorkerSet');
      expect(manifest.stdout).toContain('- --enable-prefix-caching');
      const manifestJson = await runCli(['--json', 'services', 'manifest', 'llama'], env);
      expect(JSON.parse(manifestJson.stdout)).toMatchObject({
        kind: 'LeaderWorkerSet',
        metadata: { name: 'llama' },
      });

      const del = await runCli(['services', 'delete', 'llama'], env);
      expect(del.code, del.stderr).toBe(0);
      expect(del.stdout).toContain('deleting service llama (DELETING)');
      expect(server.serviceRequests.filter((q) => q.method === 'DELETE').map((q) => q.path)).toEqual([
        '/api/v1/services/llama',
      ]);
      const gone = await runCli(['services', 'show', 'nope'], env);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/error: Service nope not found \(request /);
    }, 120_000);

    it('--dry-run prints the rendered manifest; a 422 lists its issues; admin keys send the project', async () => {
      await readyVersion();
      const dry = await runCli(
        create('llama', '--tp', '4', '--pp', '2', '--arg=--enforce-eager', '--dry-run'),
        env,
      );
      expect(dry.code, dry.stderr).toBe(0);
      expect(posts()[0].query).toEqual({ dryRun: 'true' });
      expect(dry.stdout).toMatch(/^apiVersion: leaderworkerset\.x-k8s\.io\/v1\nkind: LeaderWorkerSet\n/);
      expect(dry.stdout).toContain('size: 2');
      expect(dry.stdout).toContain('- --enforce-eager');
      expect(server.services.size).toBe(0);
      const dryJson = await runCli(['--json', ...create('llama', '--dry-run')], env);
      expect(JSON.parse(dryJson.stdout)).toMatchObject({
        dryRun: true,
        manifest: { kind: 'LeaderWorkerSet' },
      });

      const bad = await runCli(
        create('llama', '--version', 'v9', '--arg=--tensor-parallel-size=4', '--wait'),
        env,
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^error: Invalid service: .+ \(request [0-9a-f-]{36}\)$/m);
      expect(bad.stderr).toContain('  - version: model "demo" has no version "v9"');
      expect(bad.stderr).toContain(
        '  - engine.extraArgs: --tensor-parallel-size=4 is set by Troupe; use parallelism',
      );
      const badName = await runCli(create('Bad_Name'), env);
      expect(badName.code).toBe(1);
      expect(badName.stderr).toContain('  - name: must be a DNS-1035 label');
      const badEnv = await runCli(create('llama', '--env', 'NOEQUALS'), env);
      expect(badEnv.code).not.toBe(0);
      expect(badEnv.stderr).toContain('expected KEY=VALUE');

      const project = server.projectId;
      const admin = { ...env, TROUPE_KEY: ADMIN, TROUPE_PROJECT: project };
      const made = await runCli(create('llama'), admin);
      expect(made.code, made.stderr).toBe(0);
      expect(posts().at(-1)?.body).toMatchObject({ name: 'llama', projectId: project });
      for (const args of [
        ['list'],
        ['show', 'llama'],
        ['events', 'llama'],
        ['manifest', 'llama'],
        ['delete', 'llama'],
      ]) {
        const r = await runCli(['--project', project, 'services', ...args], { ...env, TROUPE_KEY: ADMIN });
        expect(r.code, r.stderr).toBe(0);
        expect(server.serviceRequests.at(-1)?.query.projectId).toBe(project);
      }
    }, 120_000);

    it('--wait polls until READY (exit 0), and exits 1 with the reason on FAILED', async () => {
      await readyVersion();
      server.servicePlan = [
        { phase: 'PENDING' },
        { phase: 'DEPLOYING', reason: 'pulling image' },
        { phase: 'READY', ready: 1 },
      ];
      const ok = await runCli(create('llama', '--wait', '--poll-interval-ms', '50'), env);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toContain('llama: DEPLOYING 0/1: pulling image');
      expect(ok.stderr).toContain('llama: READY 1/1');
      expect(ok.stdout).toContain('phase: READY');
      expect(ok.stdout).toMatch(/0 +llama-0 +10\.0\.0\.10:8000/);
      const gets = server.serviceRequests.filter(
        (q) => q.method === 'GET' && q.path === '/api/v1/services/llama',
      );
      expect(gets).toHaveLength(3);

      server.servicePlan = [
        { phase: 'DEPLOYING' },
        { phase: 'FAILED', reason: 'engine crashed: CUDA out of memory', lastError: 'leader pod exited 1' },
      ];
      const failed = await runCli(['--json', ...create('broken', '--wait', '--poll-interval-ms', '50')], env);
      expect(failed.code).toBe(1);
      expect(JSON.parse(failed.stdout)).toMatchObject({ status: { phase: 'FAILED' } });
      expect(failed.stderr).toContain('error: service broken is FAILED: engine crashed: CUDA out of memory');
    }, 120_000);
  });
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
