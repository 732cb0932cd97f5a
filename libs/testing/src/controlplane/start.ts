/**
 * Starts an upstream Kubernetes control plane on this machine from the pinned build (build.ts):
 * etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the LeaderWorkerSet controller
 * with its CRD and webhooks installed as its Helm chart installs them (internal cert management: the
 * controller generates its CA and serving certificate, stores them in the `lws-webhook-server-cert`
 * Secret and injects the CA into the webhook configurations).
 *
 * There are no kubelets: GPU nodes come from the node agent (apps/node-agent), started by the caller.
 *
 * Webhooks on loopback: the webhook configurations reference the Service `lws-webhook-service` in
 * `lws-system`, as in the chart. The API server runs with `--enable-aggregator-routing`, so it dials a
 * Service's endpoints instead of its ClusterIP (nothing here implements ClusterIPs); the Service has
 * no selector and one EndpointSlice naming this host's address and the controller's webhook port.
 * Kubernetes refuses loopback addresses in EndpointSlices, so the host's first non-loopback IPv4
 * address is used (the webhook server listens on every interface). The TLS name checked is the
 * Service's DNS name, which is what the controller's certificate carries.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import YAML from 'yaml';
import { freePort } from '../probe';
import { ensureControlPlane, type ControlPlaneBuild, type ControlPlaneVersions } from './build';

export const CONTROL_PLANE_COMPONENTS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'lws-controller',
] as const;
export type ControlPlaneComponent = (typeof CONTROL_PLANE_COMPONENTS)[number];

export const LWS_NAMESPACE = 'lws-system';
const WEBHOOK_SERVICE = 'lws-webhook-service';
const WEBHOOK_SECRET = 'lws-webhook-server-cert';

export interface ControlPlaneOptions {
  /** State folder: etcd data, certificates, kubeconfig, component logs (logs/<component>.log). */
  dir: string;
  /** A build to use (default: ensureControlPlane(), building when not cached). */
  build?: ControlPlaneBuild;
  /** Address the API server gives the webhook Service (default: first non-loopback IPv4). */
  hostAddress?: string;
  /** Extra flags per component (e.g. faster node-monitor periods). */
  extraArgs?: Partial<Record<ControlPlaneComponent, string[]>>;
  log?: (message: string) => void;
}

export interface ComponentHandle {
  readonly name: ControlPlaneComponent;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Sends a signal (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same flags and waits until it is ready. */
  start(): Promise<void>;
}

export interface ControlPlane {
  url: string;
  kubeconfigPath: string;
  kubeconfig: string;
  /** Bearer token of the admin user (group system:masters). */
  token: string;
  caPath: string;
  versions: ControlPlaneVersions;
  dir: string;
  component(name: ControlPlaneComponent): ComponentHandle;
  /** HTTP to the API server as admin (JSON in and out). */
  request(method: string, p: string, body?: unknown, contentType?: string): Promise<Response>;
  /** Seconds from the call to a control plane with the LWS webhooks serving. */
  startSeconds: number;
  stop(): Promise<void>;
}

export class ControlPlaneError extends Error {}

export function hostAddress(): string | undefined {
  for (const addrs of Object.values(os.networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  webhook: number;
  lwsHealth: number;
}

/** The command line of each component: pure, so the flags are visible and tested in one place. */
export function componentArgs(
  dir: string,
  ports: Ports,
  host: string,
): Record<ControlPlaneComponent, string[]> {
  const kubeconfig = path.join(dir, 'admin.kubeconfig');
  const certDir = path.join(dir, 'pki');
  return {
    etcd: [
      '--name=troupe',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${ports.etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${ports.etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=troupe=http://127.0.0.1:${ports.etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    'kube-apiserver': [
      `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--advertise-address=${host}`,
      `--cert-dir=${certDir}`,
      `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--enable-aggregator-routing=true',
      '--allow-privileged=true',
      '--endpoint-reconciler-type=none',
      '--v=1',
    ],
    'kube-controller-manager': [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      `--service-account-private-key-file=${path.join(dir, 'sa.key')}`,
      `--root-ca-file=${path.join(certDir, 'apiserver.crt')}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      '--cluster-name=troupe',
      '--v=1',
    ],
    'kube-scheduler': [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      '--leader-elect=false',
      '--v=1',
    ],
    'lws-controller': [`--config=${path.join(dir, 'lws-config.yaml')}`],
  };
}

/** The LWS controller's configuration file (its chart's, with ports of this run). */
export function lwsConfig(dir: string, ports: Ports): string {
  return YAML.stringify({
    apiVersion: 'config.lws.x-k8s.io/v1alpha1',
    kind: 'Configuration',
    health: { healthProbeBindAddress: `127.0.0.1:${ports.lwsHealth}` },
    metrics: { bindAddress: '0' },
    webhook: { port: ports.webhook, certDir: path.join(dir, 'lws-certs') },
    leaderElection: { leaderElect: false, resourceNamespace: LWS_NAMESPACE },
    internalCertManagement: {
      enable: true,
      webhookServiceName: WEBHOOK_SERVICE,
      webhookSecretName: WEBHOOK_SECRET,
    },
  });
}

/** What the LWS chart installs besides the CRD and the controller, for webhooks served on `host`. */
export function lwsInstallObjects(host: string, webhookPort: number): Record<string, unknown>[] {
  const svc = (p: string) => ({
    service: { name: WEBHOOK_SERVICE, namespace: LWS_NAMESPACE, path: p, port: 443 },
  });
  const lwsRule = {
    apiGroups: ['leaderworkerset.x-k8s.io'],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE'],
    resources: ['leaderworkersets'],
  };
  const podSelector = {
    matchExpressions: [{ key: 'leaderworkerset.sigs.k8s.io/name', operator: 'Exists' }],
  };
  const common = { admissionReviewVersions: ['v1'], failurePolicy: 'Fail', sideEffects: 'None' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LWS_NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: WEBHOOK_SECRET, namespace: LWS_NAMESPACE },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: WEBHOOK_SERVICE, namespace: LWS_NAMESPACE },
      spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: webhookPort }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${WEBHOOK_SERVICE}-host`,
        namespace: LWS_NAMESPACE,
        labels: {
          'kubernetes.io/service-name': WEBHOOK_SERVICE,
          'endpointslice.kubernetes.io/managed-by': 'troupe-controlplane',
        },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [host], conditions: { ready: true } }],
      ports: [{ name: 'https', port: webhookPort, protocol: 'TCP' }],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'lws-mutating-webhook-configuration' },
      webhooks: [
        {
          ...common,
          name: 'mleaderworkerset.kb.io',
          clientConfig: svc('/mutate-leaderworkerset-x-k8s-io-v1-leaderworkerset'),
          rules: [lwsRule],
        },
        {
          ...common,
          name: 'mpod.kb.io',
          clientConfig: svc('/mutate--v1-pod'),
          objectSelector: podSelector,
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
        },
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'lws-validating-webhook-configuration' },
      webhooks: [
        {
          ...common,
          name: 'vleaderworkerset.kb.io',
          clientConfig: svc('/validate-leaderworkerset-x-k8s-io-v1-leaderworkerset'),
          rules: [lwsRule],
        },
        {
          ...common,
          name: 'vpod.kb.io',
          clientConfig: svc('/validate--v1-pod'),
          objectSelector: podSelector,
          rules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['pods'],
            },
          ],
        },
      ],
    },
  ];
}

/** REST path of an object (collection path when `name` is omitted). */
export function objectPath(obj: Record<string, unknown>, withName = false): string {
  const apiVersion = obj.apiVersion as string;
  const kind = obj.kind as string;
  const meta = (obj.metadata ?? {}) as { name?: string; namespace?: string };
  const plural =
    kind === 'EndpointSlice'
      ? 'endpointslices'
      : kind === 'CustomResourceDefinition'
        ? 'customresourcedefinitions'
        : `${kind.toLowerCase()}s`;
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = meta.namespace ? `/namespaces/${meta.namespace}` : '';
  return `${base}${ns}/${plural}${withName ? `/${meta.name}` : ''}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const build = options.build ?? (await ensureControlPlane({ log }));
  const host = options.hostAddress ?? hostAddress();
  if (!host)
    throw new ControlPlaneError(
      'no non-loopback IPv4 address on this host: the API server reaches the LWS webhooks through an ' +
        'EndpointSlice, and Kubernetes refuses loopback addresses there',
    );
  const dir = path.resolve(options.dir);
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  mkdirSync(path.join(dir, 'pki'), { recursive: true });

  const ports: Ports = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
    webhook: await freePort('0.0.0.0'),
    lwsHealth: await freePort(),
  };

  // Credentials: a service-account signing key and one admin token (group system:masters).
  if (!existsSync(path.join(dir, 'sa.key'))) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path.join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
    writeFileSync(path.join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const tokenFile = path.join(dir, 'tokens.csv');
  if (!existsSync(tokenFile))
    writeFileSync(tokenFile, `${randomBytes(24).toString('hex')},admin,admin,"system:masters"\n`, {
      mode: 0o600,
    });
  const token = readFileSync(tokenFile, 'utf8').split(',')[0];
  writeFileSync(path.join(dir, 'lws-config.yaml'), lwsConfig(dir, ports));
  const url = `https://127.0.0.1:${ports.apiserver}`;
  const caPath = path.join(dir, 'pki', 'apiserver.crt');
  const kubeconfigPath = path.join(dir, 'admin.kubeconfig');
  const kubeconfig = YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'troupe-kube', cluster: { server: url, 'certificate-authority': caPath } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [
      { name: 'troupe-kube', context: { cluster: 'troupe-kube', user: 'admin', namespace: 'default' } },
    ],
    'current-context': 'troupe-kube',
  });
  writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });

  const args = componentArgs(dir, ports, host);
  for (const [name, extra] of Object.entries(options.extraArgs ?? {}))
    args[name as ControlPlaneComponent].push(...(extra ?? []));

  // Until the API server has written its self-signed certificate, readiness is polled without
  // verification; every later request checks the certificate against that file.
  let agent: Agent | undefined;
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });
  const request = async (method: string, p: string, body?: unknown, contentType = 'application/json') => {
    if (!agent && existsSync(caPath)) agent = new Agent({ connect: { ca: readFileSync(caPath) } });
    const res = await undiciFetch(`${url}${p}`, {
      method,
      dispatcher: agent ?? insecure,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return res as unknown as Response;
  };

  const procs = new Map<ControlPlaneComponent, ChildProcess>();
  const logs = new Map<ControlPlaneComponent, WriteStream>();
  let stopping = false;
  let secretSync: Promise<void> | undefined;

  const readiness: Record<ControlPlaneComponent, () => Promise<boolean>> = {
    etcd: async () =>
      fetch(`http://127.0.0.1:${ports.etcdClient}/health`).then(
        async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true',
        () => false,
      ),
    'kube-apiserver': async () =>
      request('GET', '/readyz').then(
        async (r) => (await r.text(), r.ok),
        () => false,
      ),
    'kube-controller-manager': async () => healthz(ports.controllerManager, insecure),
    'kube-scheduler': async () => healthz(ports.scheduler, insecure),
    'lws-controller': async () => lwsReady(),
  };

  const lwsReady = async (): Promise<boolean> => {
    const ok = await fetch(`http://127.0.0.1:${ports.lwsHealth}/readyz`).then(
      async (r) => (await r.text(), r.ok),
      () => false,
    );
    if (!ok) return false;
    // The webhooks answer through the API server: a dry-run create goes through both of them.
    const probe = {
      apiVersion: 'leaderworkerset.x-k8s.io/v1',
      kind: 'LeaderWorkerSet',
      metadata: { name: 'webhook-probe', namespace: 'default' },
      spec: {
        leaderWorkerTemplate: {
          workerTemplate: { spec: { containers: [{ name: 'c', image: 'probe' }] } },
        },
      },
    };
    const r = await request(
      'POST',
      '/apis/leaderworkerset.x-k8s.io/v1/namespaces/default/leaderworkersets?dryRun=All',
      probe,
    ).catch(() => undefined);
    await r?.text();
    return r?.status === 201;
  };

  const waitReady = async (name: ControlPlaneComponent, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const p = procs.get(name);
      if (!p || p.exitCode !== null || p.signalCode !== null)
        throw new ControlPlaneError(
          `${name} exited (${p?.signalCode ?? p?.exitCode}); see ${path.join(dir, 'logs', `${name}.log`)}:\n${tailOf(name)}`,
        );
      if (await readiness[name]()) return;
      await sleep(200);
    }
    throw new ControlPlaneError(
      `${name} was not ready after ${timeoutMs / 1000} s; see ${path.join(dir, 'logs', `${name}.log`)}:\n${tailOf(name)}`,
    );
  };
  const tailOf = (name: ControlPlaneComponent) => {
    try {
      return readFileSync(path.join(dir, 'logs', `${name}.log`), 'utf8')
        .split('\n')
        .slice(-15)
        .join('\n');
    } catch {
      return '';
    }
  };

  const spawnComponent = (name: ControlPlaneComponent) => {
    let out = logs.get(name);
    if (!out) {
      out = createWriteStream(path.join(dir, 'logs', `${name}.log`), { flags: 'a' });
      logs.set(name, out);
    }
    out.write(`\n==== ${new Date().toISOString()} starting ${name}\n`);
    const child = spawn(build.bin[name], args[name], {
      cwd: dir,
      env: { ...process.env, KUBECONFIG: kubeconfigPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.on('exit', (code, signal) => {
      if (!stopping) log(`${name} exited (${signal ?? code})`);
    });
    procs.set(name, child);
  };

  const handle = (name: ControlPlaneComponent): ComponentHandle => ({
    name,
    get pid() {
      return procs.get(name)?.pid;
    },
    get running() {
      const p = procs.get(name);
      return !!p && p.exitCode === null && p.signalCode === null;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const p = procs.get(name);
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill(signal);
      });
    },
    async start() {
      if (this.running) return;
      spawnComponent(name);
      await waitReady(name, 60_000);
    },
  });

  // A caller that exits without stop() (an uncaught error, process.exit) takes its components along.
  const killAll = () => {
    for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const stop = async () => {
    stopping = true;
    process.removeListener('exit', killAll);
    for (const name of [...CONTROL_PLANE_COMPONENTS].reverse()) {
      const p = procs.get(name);
      if (!p || p.exitCode !== null || p.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => p.kill('SIGKILL'), 5000);
        p.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        p.kill('SIGTERM');
      });
    }
    await secretSync;
    for (const s of logs.values()) s.end();
    await agent?.destroy().catch(() => undefined);
    await insecure.destroy().catch(() => undefined);
  };

  try {
    spawnComponent('etcd');
    await waitReady('etcd', 30_000);
    spawnComponent('kube-apiserver');
    await waitReady('kube-apiserver', 90_000);
    log(`kube-apiserver ready at ${url}`);
    spawnComponent('kube-controller-manager');
    spawnComponent('kube-scheduler');
    await installLws(request, build, host, ports.webhook);
    await waitReady('kube-controller-manager', 60_000);
    await waitReady('kube-scheduler', 60_000);
    spawnComponent('lws-controller');
    secretSync = syncWebhookSecret(request, path.join(dir, 'lws-certs'), () => stopping);
    await waitReady('lws-controller', 90_000);
    await waitDefaultServiceAccount(request);
  } catch (e) {
    await stop();
    throw e;
  }
  const startSeconds = (Date.now() - started) / 1000;
  log(
    `control plane ready in ${startSeconds.toFixed(1)} s (Kubernetes ${build.versions.kubernetes}, LWS ${build.versions.lws})`,
  );
  return {
    url,
    kubeconfigPath,
    kubeconfig,
    token,
    caPath,
    versions: build.versions,
    dir,
    component: handle,
    request,
    startSeconds,
    stop,
  };
}

async function healthz(port: number, dispatcher: Agent): Promise<boolean> {
  return undiciFetch(`https://127.0.0.1:${port}/healthz`, { dispatcher }).then(
    async (r) => (await r.text(), r.ok),
    () => false,
  );
}

type Request = ControlPlane['request'];

/** Creates (or replaces) an object; 409 on create means it exists, then it is left alone. */
async function createOrKeep(request: Request, obj: Record<string, unknown>): Promise<void> {
  const r = await request('POST', objectPath(obj), obj);
  const text = await r.text();
  if (r.status === 201 || r.status === 409) return;
  throw new ControlPlaneError(`creating ${objectPath(obj, true)}: ${r.status} ${text}`);
}

async function installLws(request: Request, build: ControlPlaneBuild, host: string, webhookPort: number) {
  const crd = YAML.parse(readFileSync(build.lwsCrdPath, 'utf8')) as Record<string, unknown>;
  await createOrKeep(request, crd);
  for (const obj of lwsInstallObjects(host, webhookPort)) {
    if (obj.kind === 'EndpointSlice') {
      // A restarted control plane keeps its etcd: the webhook port of this run replaces the old one.
      await (await request('DELETE', objectPath(obj, true))).text();
    }
    await createOrKeep(request, obj);
  }
  const name = (crd.metadata as { name: string }).name;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    const body = (await r.json()) as { status?: { conditions?: { type: string; status: string }[] } };
    if (body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await sleep(100);
  }
  throw new ControlPlaneError(`the LWS CRD ${name} was not Established after 30 s`);
}

/**
 * In a cluster the kubelet mounts the `lws-webhook-server-cert` Secret into the controller's pod and
 * the controller's cert rotator waits until its certificate shows up there. There is no kubelet for
 * the controller here, so this does the mount's job: it copies the Secret's keys into the
 * controller's cert dir whenever they change (the rotator writes the Secret first, then waits).
 */
async function syncWebhookSecret(request: Request, certDir: string, stopped: () => boolean): Promise<void> {
  mkdirSync(certDir, { recursive: true });
  let last = '';
  while (!stopped()) {
    const r = await request('GET', `/api/v1/namespaces/${LWS_NAMESPACE}/secrets/${WEBHOOK_SECRET}`).catch(
      () => undefined,
    );
    const body = r ? ((await r.json().catch(() => ({}))) as { data?: Record<string, string> }) : {};
    const data = body.data ?? {};
    const stamp = JSON.stringify(data);
    if (r?.ok && data['tls.crt'] && stamp !== last) {
      for (const [k, v] of Object.entries(data))
        writeFileSync(path.join(certDir, k), Buffer.from(v, 'base64'), { mode: 0o600 });
      last = stamp;
    }
    await sleep(last ? 2000 : 200);
  }
}

/** Pods need the `default` ServiceAccount, which kube-controller-manager creates per namespace. */
async function waitDefaultServiceAccount(request: Request): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await request('GET', '/api/v1/namespaces/default/serviceaccounts/default');
    await r.text();
    if (r.ok) return;
    await sleep(200);
  }
  throw new ControlPlaneError('the default ServiceAccount did not appear after 30 s');
}
