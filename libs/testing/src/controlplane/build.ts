/**
 * A pinned, reproducible build of an upstream Kubernetes control plane from Go modules:
 * etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the LeaderWorkerSet controller.
 *
 * The versions live in `deploy/controlplane/{etcd,kube,lws}/go.mod` (+ go.sum): small wrapper modules
 * of our own. `kube/` requires `k8s.io/kubernetes` and `replace`s every staging module with its
 * published version of the same release (the upstream go.mod points them at local folders). The
 * binaries go into a cache folder keyed by those files, the ldflags and the Go version, so a second
 * start finds them and only a change of a pin rebuilds. The LWS CRD is taken from the pinned LWS
 * module in the Go module cache (the same file its chart installs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CONTROL_PLANE_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'lws-controller',
] as const;
export type ControlPlaneBinary = (typeof CONTROL_PLANE_BINARIES)[number];

export interface ControlPlaneVersions {
  kubernetes: string;
  etcd: string;
  lws: string;
  go: string;
}

export interface ControlPlaneBuild {
  /** Folder with the binaries (bin/), the LWS CRD and build.json. */
  dir: string;
  bin: Record<ControlPlaneBinary, string>;
  lwsCrdPath: string;
  versions: ControlPlaneVersions;
  /** True when this call built it (false: found in the cache). */
  built: boolean;
  /** Seconds the build took (this call's, or the recorded one of the cached build). */
  buildSeconds: number;
}

export class ControlPlaneBuildError extends Error {}

const repoRoot = (): string => {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'deploy', 'controlplane', 'kube', 'go.mod'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new ControlPlaneBuildError('deploy/controlplane not found above ' + __dirname);
    dir = up;
  }
};

/** The version a go.mod requires for `module`. */
export function requiredVersion(goMod: string, module: string): string {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const m = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v[^\\s]+)`, 'm').exec(goMod);
  if (!m) throw new ControlPlaneBuildError(`go.mod does not require ${module}`);
  return m[1];
}

/** -ldflags for the kube binaries: version stamps that `/version` and kubectl report. */
export function kubeLdflags(version: string): string {
  const [major, minor] = version.replace(/^v/, '').split('.');
  const stamps = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
  return ['-s', '-w', ...stamps].join(' ');
}

interface Target {
  module: 'etcd' | 'kube' | 'lws';
  packages: string[];
  out: ControlPlaneBinary[];
  ldflags: string;
}

function goVersion(): string {
  const r = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new ControlPlaneBuildError(
      'Go is not installed (or not on PATH): the control plane is built from Go modules; install Go >= 1.26',
    );
  return r.stdout.trim();
}

export function controlPlaneCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.TROUPE_CONTROLPLANE_CACHE ??
    path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'troupe', 'controlplane')
  );
}

function plan(root: string): { key: string; versions: ControlPlaneVersions; targets: Target[] } {
  const mod = (m: string) => readFileSync(path.join(root, 'deploy/controlplane', m, 'go.mod'), 'utf8');
  const sum = (m: string) => readFileSync(path.join(root, 'deploy/controlplane', m, 'go.sum'), 'utf8');
  const kubernetes = requiredVersion(mod('kube'), 'k8s.io/kubernetes');
  const versions: ControlPlaneVersions = {
    kubernetes,
    etcd: requiredVersion(mod('etcd'), 'go.etcd.io/etcd/server/v3'),
    lws: requiredVersion(mod('lws'), 'sigs.k8s.io/lws'),
    go: goVersion(),
  };
  const targets: Target[] = [
    { module: 'etcd', packages: ['.'], out: ['etcd'], ldflags: '-s -w' },
    {
      module: 'kube',
      packages: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map(
        (c) => `k8s.io/kubernetes/cmd/${c}`,
      ),
      out: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
      ldflags: kubeLdflags(kubernetes),
    },
    { module: 'lws', packages: ['sigs.k8s.io/lws/cmd'], out: ['lws-controller'], ldflags: '-s -w' },
  ];
  const h = createHash('sha256');
  for (const m of ['etcd', 'kube', 'lws']) h.update(mod(m)).update(sum(m));
  h.update(readFileSync(path.join(root, 'deploy/controlplane/etcd/main.go')));
  h.update(JSON.stringify(targets)).update(versions.go).update(`${process.platform}/${process.arch}`);
  const key = `k8s-${kubernetes}-lws-${versions.lws}-${h.digest('hex').slice(0, 12)}`;
  return { key, versions, targets };
}

function run(cmd: string, args: string[], cwd: string, log: (m: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', (d: Buffer) => {
      keep(d);
      for (const line of d.toString().split('\n')) if (line.trim()) log(line);
    });
    child.on('error', (e) => reject(new ControlPlaneBuildError(`${cmd}: ${e.message}`)));
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new ControlPlaneBuildError(`${cmd} ${args.join(' ')} (in ${cwd}) failed (${code}):\n${tail}`),
          ),
    );
  });
}

function result(
  dir: string,
  versions: ControlPlaneVersions,
  built: boolean,
  seconds: number,
): ControlPlaneBuild {
  const bin = Object.fromEntries(CONTROL_PLANE_BINARIES.map((b) => [b, path.join(dir, 'bin', b)])) as Record<
    ControlPlaneBinary,
    string
  >;
  return { dir, bin, lwsCrdPath: path.join(dir, 'lws-crd.yaml'), versions, built, buildSeconds: seconds };
}

/** The cached build when complete, else undefined (never builds). */
export function findControlPlane(env: NodeJS.ProcessEnv = process.env): ControlPlaneBuild | undefined {
  const root = repoRoot();
  const { key, versions } = plan(root);
  const dir = path.join(controlPlaneCacheRoot(env), key);
  const info = path.join(dir, 'build.json');
  if (!existsSync(info)) return undefined;
  const recorded = JSON.parse(readFileSync(info, 'utf8')) as { buildSeconds: number };
  const r = result(dir, versions, false, recorded.buildSeconds);
  return Object.values(r.bin).every((p) => existsSync(p)) && existsSync(r.lwsCrdPath) ? r : undefined;
}

/**
 * Returns the cached build, or builds it (minutes on a clean machine: modules are downloaded through
 * the Go module proxy and compiled). Safe to call from several processes: each builds into its own
 * temporary folder and the first to finish renames it into place.
 */
export async function ensureControlPlane(
  options: { log?: (m: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<ControlPlaneBuild> {
  const log = options.log ?? (() => undefined);
  const found = findControlPlane(options.env);
  if (found) return found;
  const root = repoRoot();
  const { key, versions, targets } = plan(root);
  const cacheRoot = controlPlaneCacheRoot(options.env);
  const dir = path.join(cacheRoot, key);
  const tmp = path.join(cacheRoot, `.${key}.${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(path.join(tmp, 'bin'), { recursive: true });
  const started = Date.now();
  log(
    `building the control plane (Kubernetes ${versions.kubernetes}, etcd ${versions.etcd}, LWS ${versions.lws}, ${versions.go}) into ${dir}`,
  );
  try {
    for (const t of targets) {
      const cwd = path.join(root, 'deploy/controlplane', t.module);
      const t0 = Date.now();
      const out = t.out.length === 1 ? path.join(tmp, 'bin', t.out[0]) : path.join(tmp, 'bin') + path.sep;
      await run('go', ['build', '-trimpath', '-ldflags', t.ldflags, '-o', out, ...t.packages], cwd, log);
      log(`built ${t.out.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    const lwsDir = spawnSync('go', ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/lws'], {
      cwd: path.join(root, 'deploy/controlplane/lws'),
      encoding: 'utf8',
    }).stdout.trim();
    const crd = path.join(lwsDir, 'config/crd/bases/leaderworkerset.x-k8s.io_leaderworkersets.yaml');
    if (!existsSync(crd)) throw new ControlPlaneBuildError(`the LWS CRD is not in the module at ${crd}`);
    copyFileSync(crd, path.join(tmp, 'lws-crd.yaml'));
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    writeFileSync(
      path.join(tmp, 'build.json'),
      `${JSON.stringify({ key, versions, buildSeconds, builtAt: new Date().toISOString() }, null, 2)}\n`,
    );
    if (!existsSync(dir)) {
      try {
        renameSync(tmp, dir);
      } catch (e) {
        if (!existsSync(dir)) throw e;
      }
    }
    rmSync(tmp, { recursive: true, force: true });
    log(`control plane built in ${buildSeconds} s`);
    const r = findControlPlane(options.env);
    if (!r) throw new ControlPlaneBuildError(`the build in ${dir} is incomplete`);
    return { ...r, built: true, buildSeconds };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
