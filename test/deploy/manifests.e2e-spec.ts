// Static review of the deployment files (deploy/, docker-compose.yml, .dockerignore): what a reviewer
// checks by eye, checked on every run. Needs no service; `kubectl kustomize` runs when kubectl exists.
//   npx vitest run --project e2e test/deploy
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ENV, ROLES } from '../../libs/config/src/env.schema';

const ROOT = path.resolve(__dirname, '../..');
const KUSTOMIZE_DIR = path.join(ROOT, 'deploy/kustomize');
const BASE_DIR = path.join(KUSTOMIZE_DIR, 'base');
const IMAGE = 'ghcr.io/troupe/troupe';
const SYSTEM_NAMESPACE = 'troupe-system';
const RUN_AS_USER = 10001;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 15_000;

// ---- the shapes this spec reads -------------------------------------------------------------------

interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface HttpProbe {
  httpGet?: { path: string; port: string | number };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  securityContext?: SecurityContext;
  startupProbe?: HttpProbe;
  livenessProbe?: HttpProbe;
  readinessProbe?: HttpProbe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  securityContext?: SecurityContext;
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; emptyDir?: object }[];
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    backoffLimit?: number;
    selector?: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface Service extends K8sObject {
  spec: {
    type?: string;
    selector: Record<string, string>;
    ports: { port: number; targetPort: string | number }[];
  };
}
interface Pdb extends K8sObject {
  spec: {
    minAvailable?: number | string;
    maxUnavailable?: number | string;
    selector: { matchLabels: Record<string, string> };
  };
}
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Role extends K8sObject {
  rules: PolicyRule[];
}
interface Binding extends K8sObject {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace?: string }[];
}
interface Secret extends K8sObject {
  stringData?: Record<string, string>;
}
interface ConfigMap extends K8sObject {
  data?: Record<string, string>;
}
interface Kustomization {
  resources?: string[];
  components?: string[];
  patches?: { path?: string }[];
  configMapGenerator?: {
    name: string;
    namespace?: string;
    behavior?: string;
    literals?: string[];
    envs?: string[];
  }[];
  replicas?: { name: string; count: number }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
}

// ---- loading ---------------------------------------------------------------------------------------

const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

function yamlFilesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f))
    .sort();
}

/** Every document of a multi-document YAML file; a syntax error fails the test with its position. */
function loadObjects(file: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    if (doc.errors.length > 0) throw new Error(`${path.relative(ROOT, file)}: ${doc.errors[0].message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

function loadKustomization(dir: string): Kustomization {
  return parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
}

const baseKustomization = loadKustomization(BASE_DIR);
const baseObjects = (baseKustomization.resources ?? []).flatMap((r) => loadObjects(path.join(BASE_DIR, r)));
const ofKind = <T extends K8sObject>(kind: string) => baseObjects.filter((o) => o.kind === kind) as T[];
const find = <T extends K8sObject>(kind: string, name: string): T => {
  const found = ofKind<T>(kind).filter((o) => o.metadata.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0];
};

/** `NAME=value` literals of a configMapGenerator, as a record. */
function literals(gen: { literals?: string[] } | undefined): Record<string, string> {
  return Object.fromEntries(
    (gen?.literals ?? []).map((l) => {
      const eq = l.indexOf('=');
      return [l.slice(0, eq), l.slice(eq + 1)];
    }),
  );
}
const baseConfig = literals(baseKustomization.configMapGenerator?.find((g) => g.name === 'troupe-config'));

// ---- env names and values against the config schema ------------------------------------------------

const envSchema = ENV as Record<string, { schema: { safeParse(v: unknown): { success: boolean } } }>;
const ENV_NAMES = Object.keys(ENV);

/** A literal value the server would refuse at boot is as much a bug as a misspelt name. */
function expectValidEnv(name: string, value: string | undefined, where: string): void {
  expect(ENV_NAMES, `${where}: ${name} is not a Troupe variable (libs/config/src/env.schema.ts)`).toContain(
    name,
  );
  if (value !== undefined) {
    expect(
      envSchema[name].schema.safeParse(value).success,
      `${where}: ${name}=${value} fails the schema`,
    ).toBe(true);
  }
}

// ---- small helpers ----------------------------------------------------------------------------------

const containerOf = (w: Workload) => {
  expect(w.spec.template.spec.containers, `${w.metadata.name}: one container`).toHaveLength(1);
  return w.spec.template.spec.containers[0];
};
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name);
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Kubernetes quantities to numbers: cpu in cores ("250m", "2"), memory in bytes ("512Mi", "1Gi"). */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`unparsable quantity ${q}`);
  const unit: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(m[1]) * (m[2] ? unit[m[2]] : 1);
}

function preStopSeconds(c: Container): number {
  const hook = c.lifecycle?.preStop;
  if (hook?.sleep) return hook.sleep.seconds;
  const cmd = hook?.exec?.command ?? [];
  return cmd[0] === 'sleep' ? Number(cmd[1]) : 0;
}

function expectHardenedPod(pod: PodSpec, where: string): void {
  expect(pod.hostNetwork ?? false, where).toBe(false);
  expect(pod.hostPID ?? false, where).toBe(false);
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const at = `${where}/${c.name}`;
    const sc = { ...pod.securityContext, ...c.securityContext };
    expect(sc.runAsNonRoot, at).toBe(true);
    expect(sc.runAsUser, at).toBe(RUN_AS_USER);
    expect(sc.seccompProfile?.type, at).toBe('RuntimeDefault');
    expect(c.securityContext?.readOnlyRootFilesystem, at).toBe(true);
    expect(c.securityContext?.allowPrivilegeEscalation, at).toBe(false);
    expect(c.securityContext?.privileged ?? false, at).toBe(false);
    expect(c.securityContext?.capabilities?.drop, at).toContain('ALL');
    expect(c.securityContext?.capabilities?.add ?? [], at).toEqual([]);
    expect(c.image.split(':')[0], at).toBe(IMAGE);
    // A read-only root filesystem needs a writable /tmp for Node and its libraries.
    const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(tmp, `${at}: /tmp mount`).toBeDefined();
    expect(
      pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir,
      `${at}: /tmp is an emptyDir`,
    ).toBeDefined();
    expect(c.resources?.requests?.cpu, `${at}: cpu request`).toBeDefined();
    expect(c.resources?.requests?.memory, `${at}: memory request`).toBeDefined();
    expect(c.resources?.limits?.memory, `${at}: memory limit`).toBeDefined();
    expect(c.resources?.limits?.cpu, `${at}: cpu limit`).toBeDefined();
    for (const e of c.env ?? []) expectValidEnv(e.name, e.value, at);
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        expect(ref.name, `${at}: ${e.name}`).toBe('troupe-secrets');
        expect(ref.key, `${at}: secret key of ${e.name}`).toBe(e.name);
      }
    }
  }
}

// ---- kustomizations ----------------------------------------------------------------------------------

describe('kustomizations', () => {
  const dirs = yamlFilesUnder(KUSTOMIZE_DIR)
    .filter((f) => path.basename(f) === 'kustomization.yaml')
    .map((f) => path.dirname(f));

  it('finds the base and the dev overlay', () => {
    expect(dirs.map((d) => path.relative(KUSTOMIZE_DIR, d)).sort()).toEqual(['base', 'overlays/dev']);
  });

  it.each(dirs.map((d) => [path.relative(KUSTOMIZE_DIR, d), d]))(
    '%s: every listed file exists, every manifest is listed, examples are not',
    (_name, dir) => {
      const k = loadKustomization(dir);
      const listed = [...(k.resources ?? []), ...(k.components ?? [])];
      for (const entry of listed) {
        const target = path.resolve(dir, entry);
        expect(fs.existsSync(target), `${entry} exists`).toBe(true);
        if (fs.statSync(target).isDirectory()) {
          expect(fs.existsSync(path.join(target, 'kustomization.yaml')), `${entry} is a kustomization`).toBe(
            true,
          );
        }
      }
      for (const p of k.patches ?? [])
        if (p.path) expect(fs.existsSync(path.resolve(dir, p.path)), p.path).toBe(true);
      for (const g of k.configMapGenerator ?? []) {
        for (const e of g.envs ?? []) expect(fs.existsSync(path.resolve(dir, e)), e).toBe(true);
      }

      const manifests = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
      for (const f of manifests) {
        if (/\.example\.ya?ml$/.test(f))
          expect(listed, `${f} is documentation, never applied`).not.toContain(f);
        else expect(listed, `${f} is in kustomization.yaml`).toContain(f);
      }
    },
  );

  it('every object names its namespace (the base sets none globally, so nothing lands in kubectl’s default)', () => {
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
    for (const o of baseObjects) {
      expect(o.metadata?.name, `${o.kind} has a name`).toBeTruthy();
      if (clusterScoped.has(o.kind))
        expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBeUndefined();
      else expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBeTruthy();
    }
    for (const o of baseObjects.filter((x) => x.metadata.namespace)) {
      expect(
        ofKind('Namespace').map((n) => n.metadata.name),
        `namespace of ${o.kind} ${o.metadata.name}`,
      ).toContain(o.metadata.namespace);
    }
  });

  it('the secrets example is a documentation-only Secret whose keys are Troupe variables', () => {
    const [secret] = loadObjects(path.join(BASE_DIR, 'secrets.example.yaml')) as Secret[];
    expect(secret.kind).toBe('Secret');
    expect(secret.metadata).toMatchObject({ name: 'troupe-secrets', namespace: SYSTEM_NAMESPACE });
    for (const key of Object.keys(secret.stringData ?? {}))
      expectValidEnv(key, undefined, 'secrets.example.yaml');
    expect(
      baseObjects.filter((o) => o.kind === 'Secret'),
      'no Secret is applied by the base',
    ).toEqual([]);

    // Every key the pods read from troupe-secrets is documented in the example.
    const used = ofKind<Workload>('Deployment')
      .concat(ofKind<Workload>('Job'))
      .flatMap((w) => w.spec.template.spec.containers.flatMap((c) => c.env ?? []))
      .map((e) => e.valueFrom?.secretKeyRef?.key)
      .filter((k): k is string => !!k);
    expect(Object.keys(secret.stringData ?? {}).sort()).toEqual([...new Set(used)].sort());
  });

  it('troupe-config literals (base and overlays) are Troupe variables with valid values', () => {
    expect(baseConfig).toMatchObject({ KUBE_IN_CLUSTER: 'true', S3_BUCKET: expect.any(String) });
    for (const key of ['S3_ENDPOINT', 'KUBE_NAMESPACE', 'LOG_LEVEL'])
      expect(Object.keys(baseConfig)).toContain(key);
    for (const dir of yamlFilesUnder(KUSTOMIZE_DIR).filter(
      (f) => path.basename(f) === 'kustomization.yaml',
    )) {
      for (const g of parse(fs.readFileSync(dir, 'utf8')).configMapGenerator ?? []) {
        for (const [name, value] of Object.entries(literals(g))) {
          expectValidEnv(name, value, path.relative(ROOT, dir));
        }
      }
    }
    // The namespace where inference services go exists in the base (rbac is bound there, below).
    expect(ofKind('Namespace').map((n) => n.metadata.name)).toContain(baseConfig.KUBE_NAMESPACE);
  });

  it('the dev overlay runs one pod per role with debug logs', () => {
    const dev = loadKustomization(path.join(KUSTOMIZE_DIR, 'overlays/dev'));
    expect(dev.resources).toContain('../../base');
    expect(Object.fromEntries((dev.replicas ?? []).map((r) => [r.name, r.count]))).toEqual({
      'troupe-api': 1,
      'troupe-gateway': 1,
      'troupe-worker': 1,
    });
    const gen = dev.configMapGenerator?.find((g) => g.name === 'troupe-config');
    expect(gen?.behavior).toBe('merge');
    expect(literals(gen).LOG_LEVEL).toBe('debug');
  });
});

// ---- Deployments -----------------------------------------------------------------------------------

describe('Deployments (one per role)', () => {
  const expected = { api: 2, gateway: 2, worker: 1 } satisfies Record<(typeof ROLES)[number], number>;

  it('there is exactly one Deployment per role and nothing else', () => {
    expect(
      ofKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(ROLES.map((r) => `troupe-${r}`).sort());
  });

  it.each(Object.entries(expected))('troupe-%s', (role, replicas) => {
    const d = find<Workload>('Deployment', `troupe-${role}`);
    const pod = d.spec.template.spec;
    const c = containerOf(d);

    expect(d.metadata.namespace).toBe(SYSTEM_NAMESPACE);
    expect(d.spec.replicas).toBe(replicas);
    expect(matches(d.spec.selector?.matchLabels ?? {}, d.spec.template.metadata.labels)).toBe(true);
    expect(envOf(c, 'ROLES')?.value, 'ROLES is exactly its role').toBe(role);

    expectHardenedPod(pod, d.metadata.name);
    expect(pod.serviceAccountName).toBe('troupe');
    expect(find('ServiceAccount', 'troupe').metadata.namespace).toBe(d.metadata.namespace);

    expect(c.ports).toContainEqual(expect.objectContaining({ name: 'http', containerPort: 3000 }));
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    if (c.startupProbe) expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });

    // The kubelet must not SIGKILL before the server has drained: grace > preStop + SHUTDOWN_TIMEOUT_MS.
    const shutdownMs = Number(envOf(c, 'SHUTDOWN_TIMEOUT_MS')?.value ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds(c) + shutdownMs / 1000);

    // Configuration comes from troupe-config and troupe-secrets.
    expect(c.envFrom).toContainEqual({ configMapRef: { name: 'troupe-config' } });
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'TROUPE_ADMIN_KEY', 'S3_ACCESS_KEY', 'S3_SECRET_KEY']) {
      expect(envOf(c, key)?.valueFrom?.secretKeyRef, `${key} from troupe-secrets`).toMatchObject({
        name: 'troupe-secrets',
        key,
      });
    }
  });

  it('the gateway (the request hot path) gets more resources than the api', () => {
    const res = (name: string) => containerOf(find<Workload>('Deployment', name)).resources!;
    const gw = res('troupe-gateway');
    const api = res('troupe-api');
    for (const kind of ['requests', 'limits'] as const) {
      for (const r of ['cpu', 'memory']) {
        expect(quantity(gw[kind]![r]), `${kind}.${r}`).toBeGreaterThan(quantity(api[kind]![r]));
      }
    }
  });

  it('Services troupe-api and troupe-gateway: ClusterIP, port 80 -> http, selecting exactly their role', () => {
    const deployments = ofKind<Workload>('Deployment');
    expect(
      ofKind('Service')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(['troupe-api', 'troupe-gateway']);
    for (const role of ['api', 'gateway']) {
      const s = find<Service>('Service', `troupe-${role}`);
      expect(s.spec.type ?? 'ClusterIP').toBe('ClusterIP');
      expect(s.spec.ports).toEqual([expect.objectContaining({ port: 80, targetPort: 'http' })]);
      const selected = deployments.filter((d) => matches(s.spec.selector, d.spec.template.metadata.labels));
      expect(selected.map((d) => d.metadata.name)).toEqual([`troupe-${role}`]);
    }
  });

  it('PodDisruptionBudgets cover api and gateway and still let a single-replica overlay drain', () => {
    const deployments = ofKind<Workload>('Deployment');
    for (const role of ['api', 'gateway']) {
      const pdb = find<Pdb>('PodDisruptionBudget', `troupe-${role}`);
      expect(pdb.apiVersion).toBe('policy/v1');
      const selected = deployments.filter((d) =>
        matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels),
      );
      expect(selected.map((d) => d.metadata.name)).toEqual([`troupe-${role}`]);
      // minAvailable >= replicas would block every node drain in the dev overlay (1 replica).
      expect(pdb.spec.minAvailable).toBeUndefined();
      expect(Number(pdb.spec.maxUnavailable)).toBeGreaterThanOrEqual(1);
    }
  });
});

// ---- migration Job ------------------------------------------------------------------------------------

describe('migration Job', () => {
  it('troupe-migrate runs dist/scripts/migrate.js deploy, hardened, with DATABASE_URL and no API token', () => {
    const job = find<Workload>('Job', 'troupe-migrate');
    const pod = job.spec.template.spec;
    const c = containerOf(job);
    const argv = [...(c.command ?? ['node', '--enable-source-maps']), ...(c.args ?? [])];
    expect(argv[0]).toBe('node');
    expect(argv.slice(-2)).toEqual(['dist/scripts/migrate.js', 'deploy']);
    // The compiled script lives where tsc puts scripts/migrate.ts (tsconfig.build.json, rootDir ".").
    expect(fs.existsSync(path.join(ROOT, 'scripts/migrate.ts'))).toBe(true);
    expect(['Never', 'OnFailure']).toContain(pod.restartPolicy);
    expect(job.spec.backoffLimit).toBeGreaterThanOrEqual(0);
    expectHardenedPod(pod, 'troupe-migrate');
    expect(envOf(c, 'DATABASE_URL')?.valueFrom?.secretKeyRef).toMatchObject({ name: 'troupe-secrets' });
    expect(pod.automountServiceAccountToken).toBe(false);
  });
});

// ---- RBAC --------------------------------------------------------------------------------------------

describe('RBAC', () => {
  const roles = [...ofKind<Role>('ClusterRole'), ...ofKind<Role>('Role')];
  const bindings = [...ofKind<Binding>('ClusterRoleBinding'), ...ofKind<Binding>('RoleBinding')];
  const LWS = 'leaderworkerset.x-k8s.io';

  /** Everything the platform may be granted, as `group/resource` -> verbs. Anything else is a finding. */
  const ALLOWED: Record<string, string[]> = {
    [`${LWS}/leaderworkersets`]: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
    [`${LWS}/leaderworkersets/scale`]: ['get', 'patch', 'update'],
    [`${LWS}/leaderworkersets/status`]: ['get'],
    '/pods': ['get', 'list', 'watch'],
    '/services': ['get', 'list', 'watch', 'create', 'patch', 'delete'],
    '/secrets': ['get', 'create', 'patch', 'update', 'delete'],
    '/events': ['create', 'patch', 'list', 'watch'],
    '/namespaces': ['get', 'list'],
    '/nodes': ['get', 'list', 'watch'],
  };
  /** What the platform cannot work without, and where: in the inference namespace, or cluster-wide. */
  const REQUIRED_IN_NAMESPACE: Record<string, string[]> = {
    [`${LWS}/leaderworkersets`]: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
    [`${LWS}/leaderworkersets/scale`]: ['get', 'patch', 'update'],
    '/pods': ['get', 'list', 'watch'],
    '/services': ['get', 'create', 'patch', 'delete'],
    '/secrets': ['get', 'create', 'patch', 'delete'],
    '/events': ['create'],
  };
  const REQUIRED_CLUSTER_WIDE: Record<string, string[]> = {
    '/nodes': ['get', 'list', 'watch'],
    '/namespaces': ['get'],
  };

  const grants = (rules: PolicyRule[]) =>
    rules.flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) =>
        (r.resources ?? []).flatMap((res) => r.verbs.map((verb) => ({ key: `${g}/${res}`, verb }))),
      ),
    );

  /** Grants the `troupe` ServiceAccount holds in a namespace (undefined: cluster-wide only). */
  function effective(namespace: string | undefined): Set<string> {
    const out = new Set<string>();
    for (const b of bindings) {
      const bindsTroupe = b.subjects.some(
        (s) => s.kind === 'ServiceAccount' && s.name === 'troupe' && s.namespace === SYSTEM_NAMESPACE,
      );
      const applies =
        b.kind === 'ClusterRoleBinding' || (namespace !== undefined && b.metadata.namespace === namespace);
      if (!bindsTroupe || !applies) continue;
      const role = roles.find((r) => r.kind === b.roleRef.kind && r.metadata.name === b.roleRef.name);
      for (const g of grants(role?.rules ?? [])) out.add(`${g.key}:${g.verb}`);
    }
    return out;
  }

  it('no wildcards, no non-resource URLs, no privilege-granting verbs', () => {
    expect(roles.length).toBeGreaterThan(0);
    for (const r of roles.flatMap((x) => x.rules)) {
      for (const v of [...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs])
        expect(v).not.toContain('*');
      expect(r.nonResourceURLs).toBeUndefined();
      for (const verb of ['escalate', 'bind', 'impersonate']) expect(r.verbs).not.toContain(verb);
    }
  });

  it('grants nothing beyond the list: no pods/exec, no writes on pods, nodes or namespaces', () => {
    const all = roles.flatMap((r) => grants(r.rules));
    for (const { key, verb } of all) {
      expect(Object.keys(ALLOWED), `${key} is not needed`).toContain(key);
      expect(ALLOWED[key], `${verb} on ${key} is not needed`).toContain(verb);
    }
    const keys = all.map((g) => g.key);
    for (const sub of ['exec', 'attach', 'portforward', 'proxy', 'log'])
      expect(keys).not.toContain(`/pods/${sub}`);
    for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection']) {
      for (const res of ['/pods', '/nodes', '/namespaces'])
        expect(all).not.toContainEqual({ key: res, verb });
    }
  });

  it('the troupe ServiceAccount holds what the platform needs where it deploys (KUBE_NAMESPACE)', () => {
    const inNamespace = effective(baseConfig.KUBE_NAMESPACE);
    for (const [key, verbs] of Object.entries(REQUIRED_IN_NAMESPACE)) {
      for (const verb of verbs)
        expect(inNamespace, `${verb} ${key} in ${baseConfig.KUBE_NAMESPACE}`).toContain(`${key}:${verb}`);
    }
    const clusterWide = effective(undefined);
    for (const [key, verbs] of Object.entries(REQUIRED_CLUSTER_WIDE)) {
      for (const verb of verbs)
        expect(clusterWide, `${verb} ${key} cluster-wide`).toContain(`${key}:${verb}`);
    }
  });

  it('write access is confined to the inference namespace: no Secret, LWS or Service grant cluster-wide', () => {
    const clusterWide = [...effective(undefined)];
    expect(clusterWide.filter((g) => !/^\/(nodes|namespaces):(get|list|watch)$/.test(g))).toEqual([]);
    expect([...effective(SYSTEM_NAMESPACE)].filter((g) => g.startsWith('/secrets'))).toEqual([]);
  });

  it('every binding points at a role and ServiceAccount defined here', () => {
    for (const b of bindings) {
      expect(
        roles.some((r) => r.kind === b.roleRef.kind && r.metadata.name === b.roleRef.name),
        b.metadata.name,
      ).toBe(true);
      for (const s of b.subjects) {
        expect(s).toMatchObject({ kind: 'ServiceAccount', name: 'troupe', namespace: SYSTEM_NAMESPACE });
      }
    }
  });
});

// ---- docker-compose.yml --------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  const s = compose.services;
  const fromOurImage = Object.entries(s).filter(([, svc]) => svc.build?.dockerfile === 'deploy/Dockerfile');

  it('has the services, with health checks where others wait for them', () => {
    expect(Object.keys(s).sort()).toEqual(['migrate', 'minio', 'minio-init', 'postgres', 'redis', 'troupe']);
    expect(s.postgres.image).toMatch(/^postgres:16/);
    expect(s.redis.image).toMatch(/^redis:7/);
    for (const name of ['postgres', 'redis', 'minio']) expect(s[name].healthcheck?.test, name).toBeDefined();
    expect(String(s.postgres.healthcheck?.test)).toContain('pg_isready');
    expect(fromOurImage.map(([name]) => name).sort()).toEqual(['migrate', 'troupe']);
    expect(fs.existsSync(path.join(ROOT, 'deploy/Dockerfile'))).toBe(true);
  });

  it('orders start-up: migrations and the bucket complete before troupe starts', () => {
    expect(s.troupe.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(s.troupe.depends_on?.['minio-init']?.condition).toBe('service_completed_successfully');
    expect(s.troupe.depends_on?.redis?.condition).toBe('service_healthy');
    expect(s.migrate.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(s['minio-init'].depends_on?.minio?.condition).toBe('service_healthy');
    expect(s.migrate.command).toEqual(['dist/scripts/migrate.js', 'deploy']);
  });

  it('troupe: all roles on port 3000, pointed at the compose services, admin key required', () => {
    const env = s.troupe.environment ?? {};
    expect(s.troupe.ports).toContain('3000:3000');
    expect(String(env.ROLES).split(',').sort()).toEqual([...ROLES].sort());
    expect(String(env.TROUPE_ADMIN_KEY)).toMatch(/^\$\{TROUPE_ADMIN_KEY:\?.+\}$/);
    expect(new URL(String(env.DATABASE_URL)).hostname).toBe('postgres');
    expect(new URL(String(env.REDIS_URL)).hostname).toBe('redis');
    expect(new URL(String(env.S3_ENDPOINT)).hostname).toBe('minio');
    // minio-init creates the bucket troupe uses.
    expect(String(s['minio-init'].command)).toContain(`local/${env.S3_BUCKET}`);
    expect(String(s['minio-init'].command)).toContain('--ignore-existing');
  });

  it('every variable given to the Troupe image is a Troupe variable with a valid value', () => {
    for (const [name, svc] of fromOurImage) {
      for (const [key, raw] of Object.entries(svc.environment ?? {})) {
        const value = String(raw);
        const interpolated = /\$\{([A-Z0-9_]+)/.exec(value);
        if (interpolated) {
          expect(interpolated[1], `${name}: ${key} interpolates a Troupe variable`).toBe(key);
          expectValidEnv(key, undefined, `docker-compose ${name}`);
        } else {
          expectValidEnv(key, value, `docker-compose ${name}`);
        }
      }
    }
  });
});

// ---- Dockerfile and .dockerignore ---------------------------------------------------------------------

describe('deploy/Dockerfile', () => {
  // Instructions with their continuation lines joined; comments dropped.
  const instructions = read('deploy/Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { name: string; lines: string[] }[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[2] ?? String(stages.length), lines: [line] });
    else stages.at(-1)?.lines.push(line);
  }
  const final = stages.at(-1)!;
  const has = (re: RegExp) => final.lines.some((l) => re.test(l));

  it('is multi-stage on node:20-bookworm-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const arg = instructions.find((l) => /^ARG\s+NODE_IMAGE=/.test(l));
    for (const stage of stages) {
      const base = /^FROM\s+(\S+)/i.exec(stage.lines[0])![1];
      expect(base === '${NODE_IMAGE}' ? arg?.split('=')[1] : base).toBe('node:20-bookworm-slim');
    }
    expect(stages.flatMap((st) => st.lines).some((l) => /^RUN .*npm run build/.test(l))).toBe(true);
  });

  it('the final stage runs as a non-root user with the production entry points', () => {
    const user = final.lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user, 'USER in the final stage').toBeDefined();
    const uid = user!.slice(5).trim().split(':')[0];
    expect(['0', 'root']).not.toContain(uid);
    expect(uid, 'the uid the manifests run as').toBe(String(RUN_AS_USER));
    expect(has(/^ENV .*NODE_ENV=production/)).toBe(true);
    expect(has(/^EXPOSE 3000$/)).toBe(true);
    expect(has(/^STOPSIGNAL SIGTERM$/)).toBe(true);
    expect(has(/^HEALTHCHECK .*fetch\(.*\/healthz/)).toBe(true);
    expect(has(/^ENTRYPOINT \["node", "--enable-source-maps"\]$/)).toBe(true);
    expect(has(/^CMD \["dist\/apps\/server\/src\/main\.js"\]$/)).toBe(true);
    expect(
      fs.existsSync(path.join(ROOT, 'apps/server/src/main.ts')),
      'CMD is where tsc puts the server',
    ).toBe(true);
  });

  it('the final stage copies dist/, production node_modules, package.json and prisma/ only', () => {
    const copies = final.lines.filter((l) => /^(COPY|ADD)\s/.test(l));
    expect(final.lines.some((l) => l.startsWith('ADD '))).toBe(false);
    const sources = copies.map((l) => {
      const words = l
        .split(/\s+/)
        .slice(1)
        .filter((w) => !w.startsWith('--'));
      return { from: /--from=(\S+)/.exec(l)?.[1], src: words.slice(0, -1) };
    });
    const copied = sources.flatMap((c) => c.src.map((src) => src.replace(/^\/src\//, '').replace(/\/$/, '')));
    expect(copied.sort()).toEqual(['dist', 'node_modules', 'package.json', 'prisma']);
    // node_modules comes from a stage that installed production dependencies only.
    const nm = sources.find((c) => c.src.some((x) => x.endsWith('node_modules')))!;
    const depsStage = stages.find((st) => st.name === nm.from);
    expect(depsStage, 'node_modules is copied from another stage').toBeDefined();
    expect(depsStage!.lines.some((l) => /npm (ci|prune|install)\b.*--omit=dev/.test(l))).toBe(true);
    expect(
      depsStage!.lines.some((l) => /^COPY\s+(apps|libs|scripts|\.)\s/.test(l)),
      'no sources there',
    ).toBe(false);
    // dist comes from the build stage (no compiler in the final stage).
    expect(sources.find((c) => c.src.includes('/src/dist'))?.from).toBe('build');
    expect(has(/npm (ci|install)|tsc/)).toBe(false);
  });

  it('.dockerignore keeps local artefacts out and nothing the build copies', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['dist', '.troupe', '.git', 'coverage']) expect(ignored).toContain(entry);
    expect(ignored.some((l) => l === 'node_modules' || l === '**/node_modules')).toBe(true);
    const buildCopies = instructions
      .filter((l) => /^COPY\s/.test(l) && !l.includes('--from='))
      .flatMap((l) =>
        l
          .split(/\s+/)
          .slice(1, -1)
          .filter((w) => !w.startsWith('--')),
      );
    for (const src of buildCopies)
      expect(ignored, `${src} is copied, so it must reach the context`).not.toContain(src);
  });
});

// ---- kubectl kustomize (when kubectl is installed) ---------------------------------------------------

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

describe('kubectl kustomize', () => {
  it.skipIf(!kubectl)('renders the dev overlay offline into the expected objects', () => {
    const out = execFileSync('kubectl', ['kustomize', 'deploy/kustomize/overlays/dev'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const objects = parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
    const count = (kind: string) => objects.filter((o) => o.kind === kind).length;
    expect({
      Namespace: count('Namespace'),
      ServiceAccount: count('ServiceAccount'),
      ClusterRole: count('ClusterRole'),
      ClusterRoleBinding: count('ClusterRoleBinding'),
      RoleBinding: count('RoleBinding'),
      ConfigMap: count('ConfigMap'),
      Deployment: count('Deployment'),
      Service: count('Service'),
      PodDisruptionBudget: count('PodDisruptionBudget'),
      Job: count('Job'),
      Secret: count('Secret'),
    }).toEqual({
      Namespace: 2,
      ServiceAccount: 1,
      ClusterRole: 2,
      ClusterRoleBinding: 1,
      RoleBinding: 1,
      ConfigMap: 1,
      Deployment: 3,
      Service: 2,
      PodDisruptionBudget: 2,
      Job: 1,
      Secret: 0,
    });

    const cm = objects.find((o) => o.kind === 'ConfigMap') as ConfigMap;
    expect(cm.metadata.name).toMatch(/^troupe-config-[a-z0-9]+$/);
    expect(cm.data).toMatchObject({ ...baseConfig, LOG_LEVEL: 'debug' });
    for (const d of objects.filter((o) => o.kind === 'Deployment') as Workload[]) {
      expect(d.spec.replicas, d.metadata.name).toBe(1);
      // kustomize rewrote the reference to the hashed name: config changes roll the pods.
      expect(containerOf(d).envFrom).toContainEqual({ configMapRef: { name: cm.metadata.name } });
      expect(d.metadata.labels?.['app.kubernetes.io/part-of']).toBe('troupe');
    }
    // The selector used in deploy/README.md to apply the migration alone selects the Job and only it.
    const migrate = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'migrate');
    expect(migrate.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Job/troupe-migrate']);
  });
});
