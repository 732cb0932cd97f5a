// Renders the LeaderWorkerSet of one inference service: a pure function of the service spec, the model
// version and where its weights are. Same input, deep-equal output with the same key order, so that
// server-side apply sees no change when nothing changed.

import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import {
  AppException,
  DNS_1035_RE,
  DNS_LABEL_MAX,
  DNS_LABEL_RE,
  ErrorCode,
  type FieldIssue,
} from '@troupe/common';
import {
  LWS_ANNOTATIONS,
  LWS_API_VERSION,
  LWS_KIND,
  MAX_LWS_NAME_LENGTH,
  ROLE_LEADER,
  ROLE_WORKER,
  TROUPE_ANNOTATIONS,
  TROUPE_LABELS,
  isQualifiedName,
  isValidLabelValue,
} from './naming';
import {
  DEFAULT_ENGINE_KIND,
  ENGINE_KINDS,
  MODELS_DIR,
  engineDescriptor,
  isEngineKind,
  modelDir,
  s3Url,
  type EngineDescriptor,
  type EngineKind,
} from './engines';
import { validateExtraArgs } from './extra-args';
import { sizeGroup, type GroupSizing } from './sizing';
import type {
  Container,
  EnvVar,
  IntOrString,
  LeaderWorkerSet,
  LeaderWorkerSetSpec,
  LwsStartupPolicy,
  PodSpec,
  PodTemplateSpec,
  Probe,
  SecurityContext,
  SubdomainPolicy,
  Toleration,
  Volume,
  VolumeMount,
} from './types';

// ---------------------------------------------------------------------------------------------------
// Input

export interface EngineSpec {
  /** Which engine serves the model (default `vllm`); its descriptor lives in `engines/<kind>.ts`. */
  kind?: EngineKind;
  /** The engine's image, e.g. `vllm/vllm-openai:v0.10.1` (with Ray) or `lmsysorg/sglang:v0.5.3`. */
  image: string;
  /** Extra engine arguments; may not set what the platform owns (see validateExtraArgs). */
  extraArgs?: string[];
  /** Extra environment of the engine containers (leader and workers); rendered sorted by name. */
  env?: Record<string, string> | { name: string; value: string }[];
  /** Context length: vLLM `--max-model-len`, SGLang `--context-length`. */
  maxModelLen?: number;
  dtype?: string;
  /** Share of GPU memory: vLLM `--gpu-memory-utilization`, SGLang `--mem-fraction-static`. */
  gpuMemoryUtilization?: number;
  /** Concurrent sequences: vLLM `--max-num-seqs`, SGLang `--max-running-requests`. */
  maxNumSeqs?: number;
}

export interface PlacementSpec {
  /** Node label key (e.g. `rack`): each group inside one such domain, one group per domain. */
  exclusiveTopology?: string;
  /** Default `LeaderCreated` (see DEFAULT_STARTUP_POLICY for why not LeaderReady). */
  startupPolicy?: LwsStartupPolicy;
  /** Default `RecreateGroupOnPodRestart`. */
  restartPolicy?: 'RecreateGroupOnPodRestart' | 'None';
  /** Default (absent) `Shared`: one headless Service for all groups. */
  subdomainPolicy?: SubdomainPolicy;
}

export interface RolloutSpec {
  /** Groups that may be unavailable during a rolling update (default 1): a count or `"25%"`. */
  maxUnavailable?: IntOrString;
  /** Extra groups created during a rolling update (default 0). */
  maxSurge?: IntOrString;
  partition?: number;
}

export interface ServiceRenderSpec {
  /** The LWS name (DNS-1035, at most MAX_LWS_NAME_LENGTH characters). */
  name: string;
  namespace: string;
  projectId: string;
  projectName?: string;
  /** The `model` OpenAI clients send. */
  servedModelName: string;
  /** Initial number of groups. */
  replicas: number;
  parallelism: { tensor: number; pipeline: number; allowTensorAcrossNodes?: boolean };
  gpusPerNode: number;
  /** Extended resource of the GPUs (default `nvidia.com/gpu`). */
  gpuResource?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  engine: EngineSpec;
  placement?: PlacementSpec;
  rollout?: RolloutSpec;
  /** Default 60. */
  terminationGracePeriodSeconds?: number;
}

export interface ModelRef {
  /** Object key prefix of the version's files: `<project>/<model>/<version>/`. */
  storagePrefix: string;
  versionId: string;
  /** Model name and version: the local directory is `/models/<name>/<version>`. */
  name: string;
  version: string;
  /** Total size of the version's files: sizes the weights volume when given. */
  weightBytes?: number;
  /** When known, checked against the tensor / pipeline degrees. */
  numAttentionHeads?: number;
  numLayers?: number;
}

interface S3Location {
  bucket: string;
  /** S3 endpoint URL, e.g. `http://minio.storage:9000`. */
  endpoint: string;
  /** Secret (in the service's namespace) holding the access key pair. Never inline credentials. */
  credentialsSecret: string;
  /** Keys in that Secret (default `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`). */
  accessKeyIdKey?: string;
  secretAccessKeyKey?: string;
  /** Default `us-east-1`. */
  region?: string;
}

/** An init container copies the version into an emptyDir on every pod before the engine starts. */
export interface InitContainerWeights extends S3Location {
  mode: 'init-container';
  /** Default DEFAULT_SYNC_IMAGE (the AWS CLI). */
  syncImage?: string;
  /**
   * Replaces the default `aws s3 sync` command. It gets the environment SOURCE_URL
   * (`s3://bucket/prefix/`), MODEL_DIR (where to put the files), S3_ENDPOINT, S3_BUCKET, S3_PREFIX,
   * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (from the Secret) and AWS_DEFAULT_REGION, usable as
   * `$(MODEL_DIR)` (Kubernetes expansion) or, under a shell, `"$MODEL_DIR"`.
   */
  syncCommand?: string[];
}

/** The engine streams the safetensors from S3 itself (`--load-format runai_streamer`). */
export interface StreamerWeights extends S3Location {
  mode: 'streamer';
}

export type WeightsSource = InitContainerWeights | StreamerWeights;

export interface RenderInput {
  service: ServiceRenderSpec;
  model: ModelRef;
  weights: WeightsSource;
  /** Extra labels on the LWS and its pod templates (not `troupe.io/*`, LWS or `role`). */
  labels?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------------
// Constants

export const DEFAULT_GPU_RESOURCE = 'nvidia.com/gpu';
export const DEFAULT_SYNC_IMAGE = 'amazon/aws-cli:2.17.0';
/**
 * `LeaderCreated`, not `LeaderReady`: with LeaderReady the LWS controller creates a group's workers only
 * once the leader pod is Ready, but the leader's readiness is the engine's /health, which can only
 * answer once the workers have joined (vLLM's Ray cluster, SGLang's torch.distributed group) — the
 * group would wait forever. LeaderReady is therefore refused for multi-pod groups (it is harmless, and
 * accepted, when the group is a single pod).
 */
export const DEFAULT_STARTUP_POLICY: LwsStartupPolicy = 'LeaderCreated';
export const DEFAULT_RESTART_POLICY = 'RecreateGroupOnPodRestart' as const;
export const DEFAULT_MAX_UNAVAILABLE = 1;
export const DEFAULT_MAX_SURGE = 0;
export const DEFAULT_TERMINATION_GRACE_SECONDS = 60;
export {
  MODELS_DIR,
  RAY_PORT,
  RAY_WAIT_SECONDS,
  VLLM_DTYPES,
  VLLM_PORT,
  leaderScript,
  vllmServeArgs,
  workerScript,
} from './engines';

/** vLLM's container names (every engine's are in its descriptor). */
export const LEADER_CONTAINER = 'vllm-leader';
export const WORKER_CONTAINER = 'vllm-worker';
export const FETCH_WEIGHTS_CONTAINER = 'fetch-weights';
const SHM_VOLUME = 'dshm';
const WEIGHTS_VOLUME = 'model-weights';

/** Environment names the platform sets or the LWS controller injects; users may not set them. */
export const RESERVED_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_DEFAULT_REGION',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_ENDPOINT_URL',
  'AWS_REGION',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'MODEL_DIR',
  'RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING',
  'S3_BUCKET',
  'S3_ENDPOINT',
  'S3_PREFIX',
  'SOURCE_URL',
] as const;

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PATH_SEGMENT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY_RE = /^[-._a-zA-Z0-9]+$/;
const IMAGE_RE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;
const PERCENT_RE = /^(100|[1-9]?[0-9])%$/;
const INT32_MAX = 2 ** 31 - 1;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const RESERVED_LABEL_PREFIXES = ['troupe.io/', 'leaderworkerset.sigs.k8s.io/', 'kubernetes.io/', 'k8s.io/'];

// ---------------------------------------------------------------------------------------------------
// Validation

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n);

function checkIntOrPercent(issues: FieldIssue[], field: string, v: IntOrString | undefined): void {
  if (v === undefined) return;
  if (typeof v === 'number' ? !(isInt(v) && v >= 0 && v <= INT32_MAX) : !PERCENT_RE.test(v)) {
    issues.push({ field, message: 'must be a non-negative integer or a percentage such as "25%"' });
  }
}

const isZero = (v: IntOrString): boolean => v === 0 || v === '0%';

function checkLabels(
  issues: FieldIssue[],
  field: string,
  labels: Record<string, string> | undefined,
  user: boolean,
): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (!isQualifiedName(k)) issues.push({ field: `${field}.${k}`, message: 'is not a valid label key' });
    else if (user && (k === TROUPE_LABELS.role || RESERVED_LABEL_PREFIXES.some((p) => k.includes(p)))) {
      issues.push({ field: `${field}.${k}`, message: 'is set by the platform or Kubernetes' });
    }
    if (typeof v !== 'string' || !isValidLabelValue(v)) {
      issues.push({
        field: `${field}.${k}`,
        message:
          'label values are at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric',
      });
    }
  }
}

function checkS3(issues: FieldIssue[], w: WeightsSource): void {
  if (typeof w.bucket !== 'string' || !BUCKET_RE.test(w.bucket)) {
    issues.push({ field: 'weights.bucket', message: 'is not a valid S3 bucket name' });
  }
  let url: URL | undefined;
  try {
    url = new URL(w.endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    issues.push({ field: 'weights.endpoint', message: 'must be an http(s) URL without credentials' });
  }
  if (
    typeof w.credentialsSecret !== 'string' ||
    w.credentialsSecret.length > 253 ||
    !DNS_SUBDOMAIN_RE.test(w.credentialsSecret)
  ) {
    issues.push({
      field: 'weights.credentialsSecret',
      message: 'must be the name of a Secret (DNS subdomain)',
    });
  }
  for (const [f, key] of [
    ['accessKeyIdKey', w.accessKeyIdKey],
    ['secretAccessKeyKey', w.secretAccessKeyKey],
  ] as const) {
    if (key !== undefined && (key.length > 253 || !SECRET_KEY_RE.test(key))) {
      issues.push({ field: `weights.${f}`, message: 'is not a valid Secret key' });
    }
  }
  if (w.region !== undefined && !/^[a-z0-9-]{1,64}$/.test(w.region)) {
    issues.push({ field: 'weights.region', message: 'is not a valid region name' });
  }
  if (w.mode === 'init-container') {
    if (w.syncImage !== undefined && !IMAGE_RE.test(w.syncImage)) {
      issues.push({ field: 'weights.syncImage', message: 'is not a valid image reference' });
    }
    if (
      w.syncCommand !== undefined &&
      (!Array.isArray(w.syncCommand) ||
        w.syncCommand.length === 0 ||
        w.syncCommand.some((a) => typeof a !== 'string' || a.includes('\0')))
    ) {
      issues.push({ field: 'weights.syncCommand', message: 'must be a non-empty list of strings' });
    }
  } else if (w.mode !== 'streamer') {
    issues.push({ field: 'weights.mode', message: 'must be "init-container" or "streamer"' });
  }
}

/** The user environment as entries, whichever form it was given in, with the field to report. */
function envEntries(env: EngineSpec['env']): { name: string; value: string; field: string }[] {
  if (Array.isArray(env)) {
    return env.map((e, i) => ({ name: e?.name, value: e?.value, field: `engine.env[${i}]` }));
  }
  return Object.entries(env ?? {}).map(([name, value]) => ({ name, value, field: `engine.env.${name}` }));
}

/** The descriptor of the input's engine; an unknown kind is reported by validateRenderInput. */
function engineOf(input: RenderInput): EngineDescriptor {
  const kind = input.service.engine?.kind;
  return engineDescriptor(isEngineKind(kind) ? kind : DEFAULT_ENGINE_KIND);
}

function sizingOf(input: RenderInput): GroupSizing | FieldIssue[] {
  const s = input.service;
  return sizeGroup({
    tensor: s.parallelism?.tensor,
    pipeline: s.parallelism?.pipeline,
    gpusPerNode: s.gpusPerNode,
    allowTensorAcrossNodes: s.parallelism?.allowTensorAcrossNodes,
    numAttentionHeads: input.model.numAttentionHeads,
    numLayers: input.model.numLayers,
  });
}

/**
 * Everything wrong with a render input, as field issues (fields named as in the service spec, e.g.
 * `parallelism.tensor`, `engine.extraArgs[2]`, `placement.startupPolicy`, `weights.bucket`).
 * Empty when `renderLeaderWorkerSet` will succeed.
 */
export function validateRenderInput(input: RenderInput): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const s = input.service;
  const e = s.engine;
  const engine = engineOf(input);

  if (typeof s.name !== 'string' || !DNS_1035_RE.test(s.name) || s.name.length > MAX_LWS_NAME_LENGTH) {
    issues.push({
      field: 'name',
      message: `must be a DNS-1035 label (lower-case letters, digits and "-", starting with a letter) of at most ${MAX_LWS_NAME_LENGTH} characters`,
    });
  }
  if (
    typeof s.namespace !== 'string' ||
    !DNS_LABEL_RE.test(s.namespace) ||
    s.namespace.length > DNS_LABEL_MAX
  ) {
    issues.push({ field: 'namespace', message: 'must be a DNS-1123 label' });
  }
  if (typeof s.projectId !== 'string' || !s.projectId || !isValidLabelValue(s.projectId)) {
    issues.push({ field: 'projectId', message: 'must be usable as a label value' });
  }
  if (
    typeof s.servedModelName !== 'string' ||
    s.servedModelName.length === 0 ||
    s.servedModelName.length > 256 ||
    CONTROL_RE.test(s.servedModelName) ||
    /\s/.test(s.servedModelName)
  ) {
    issues.push({ field: 'servedModelName', message: 'must be 1-256 characters without spaces' });
  }
  if (!isInt(s.replicas) || s.replicas < 0 || s.replicas > INT32_MAX) {
    issues.push({ field: 'replicas', message: 'must be a non-negative integer' });
  }

  const sizing = sizingOf(input);
  if (Array.isArray(sizing)) issues.push(...sizing);

  const gpuResource = s.gpuResource ?? DEFAULT_GPU_RESOURCE;
  if (typeof gpuResource !== 'string' || !gpuResource.includes('/') || !isQualifiedName(gpuResource)) {
    issues.push({
      field: 'gpuResource',
      message: 'must be an extended resource name such as nvidia.com/gpu',
    });
  }
  checkLabels(issues, 'nodeSelector', s.nodeSelector, false);
  if (
    s.terminationGracePeriodSeconds !== undefined &&
    !(isInt(s.terminationGracePeriodSeconds) && s.terminationGracePeriodSeconds >= 0)
  ) {
    issues.push({ field: 'terminationGracePeriodSeconds', message: 'must be a non-negative integer' });
  }

  // engine
  if (e?.kind !== undefined && !isEngineKind(e.kind)) {
    issues.push({ field: 'engine.kind', message: `must be one of ${ENGINE_KINDS.join(', ')}` });
  }
  if (!e || typeof e.image !== 'string' || !IMAGE_RE.test(e.image)) {
    issues.push({ field: 'engine.image', message: 'is not a valid image reference' });
  }
  issues.push(
    ...validateExtraArgs(e?.extraArgs ?? [], {
      engine: engine.kind,
      extraOwnedFlags: input.weights?.mode === 'streamer' ? engine.streamerOwnedFlags : [],
    }),
  );
  const seen = new Set<string>();
  for (const { name: k, value: v, field } of envEntries(e?.env)) {
    if (typeof k !== 'string' || !ENV_NAME_RE.test(k)) {
      issues.push({ field, message: 'must be a valid variable name ([A-Za-z_][A-Za-z0-9_]*)' });
    } else if (k.startsWith('LWS_') || (RESERVED_ENV as readonly string[]).includes(k)) {
      issues.push({
        field,
        message: 'is set by the platform (credentials come from a Secret, never inline)',
      });
    } else if (seen.has(k)) issues.push({ field, message: `${k} is set twice` });
    else seen.add(k);
    if (typeof v !== 'string' || v.includes('\0')) issues.push({ field, message: 'must be a string' });
  }
  if (e?.maxModelLen !== undefined && !(isInt(e.maxModelLen) && e.maxModelLen > 0)) {
    issues.push({ field: 'engine.maxModelLen', message: 'must be a positive integer' });
  }
  if (e?.maxNumSeqs !== undefined && !(isInt(e.maxNumSeqs) && e.maxNumSeqs > 0)) {
    issues.push({ field: 'engine.maxNumSeqs', message: 'must be a positive integer' });
  }
  if (
    e?.gpuMemoryUtilization !== undefined &&
    !(typeof e.gpuMemoryUtilization === 'number' && e.gpuMemoryUtilization > 0 && e.gpuMemoryUtilization <= 1)
  ) {
    issues.push({ field: 'engine.gpuMemoryUtilization', message: 'must be a number in (0, 1]' });
  }
  if (e?.dtype !== undefined && !engine.dtypes.includes(e.dtype)) {
    issues.push({ field: 'engine.dtype', message: `must be one of ${engine.dtypes.join(', ')}` });
  }

  // placement
  const p = s.placement ?? {};
  if (p.exclusiveTopology !== undefined && !isQualifiedName(p.exclusiveTopology)) {
    issues.push({ field: 'placement.exclusiveTopology', message: 'must be a node label key such as "rack"' });
  }
  if (
    p.startupPolicy !== undefined &&
    p.startupPolicy !== 'LeaderCreated' &&
    p.startupPolicy !== 'LeaderReady'
  ) {
    issues.push({ field: 'placement.startupPolicy', message: 'must be LeaderCreated or LeaderReady' });
  } else if (p.startupPolicy === 'LeaderReady' && !Array.isArray(sizing) && sizing.groupSize > 1) {
    issues.push({
      field: 'placement.startupPolicy',
      message:
        'LeaderReady would never start this group: workers are created only once the leader is Ready, and the ' +
        `leader (${engine.name} /health) is Ready only once the workers have joined; use LeaderCreated`,
    });
  }
  if (
    p.restartPolicy !== undefined &&
    p.restartPolicy !== 'RecreateGroupOnPodRestart' &&
    p.restartPolicy !== 'None'
  ) {
    issues.push({ field: 'placement.restartPolicy', message: 'must be RecreateGroupOnPodRestart or None' });
  }
  if (
    p.subdomainPolicy !== undefined &&
    p.subdomainPolicy !== 'Shared' &&
    p.subdomainPolicy !== 'UniquePerReplica'
  ) {
    issues.push({ field: 'placement.subdomainPolicy', message: 'must be Shared or UniquePerReplica' });
  }

  // rollout
  const r = s.rollout ?? {};
  checkIntOrPercent(issues, 'rollout.maxUnavailable', r.maxUnavailable);
  checkIntOrPercent(issues, 'rollout.maxSurge', r.maxSurge);
  if (isZero(r.maxUnavailable ?? DEFAULT_MAX_UNAVAILABLE) && isZero(r.maxSurge ?? DEFAULT_MAX_SURGE)) {
    issues.push({ field: 'rollout', message: 'maxUnavailable and maxSurge cannot both be 0' });
  }
  if (r.partition !== undefined && !(isInt(r.partition) && r.partition >= 0 && r.partition <= INT32_MAX)) {
    issues.push({ field: 'rollout.partition', message: 'must be a non-negative integer' });
  }

  // model
  const m = input.model;
  for (const [f, v] of [
    ['model.name', m.name],
    ['model.version', m.version],
  ] as const) {
    if (typeof v !== 'string' || !PATH_SEGMENT_RE.test(v) || v === '.' || v === '..') {
      issues.push({ field: f, message: 'must be a path segment of letters, digits, ".", "_" or "-"' });
    }
  }
  if (typeof m.versionId !== 'string' || !m.versionId || !isValidLabelValue(m.versionId)) {
    issues.push({ field: 'model.versionId', message: 'must be usable as a label value' });
  }
  const prefix = m.storagePrefix;
  if (
    typeof prefix !== 'string' ||
    !prefix.endsWith('/') ||
    prefix.startsWith('/') ||
    prefix.length > 1024 ||
    CONTROL_RE.test(prefix) ||
    prefix
      .slice(0, -1)
      .split('/')
      .some((seg) => seg === '' || seg === '.' || seg === '..')
  ) {
    issues.push({
      field: 'model.storagePrefix',
      message: 'must be a relative key prefix ending in "/", like "p/m/v/"',
    });
  }
  if (m.weightBytes !== undefined && !(isInt(m.weightBytes) && m.weightBytes > 0)) {
    issues.push({ field: 'model.weightBytes', message: 'must be a positive integer' });
  }

  if (!input.weights) issues.push({ field: 'weights', message: 'is required' });
  else checkS3(issues, input.weights);

  checkLabels(issues, 'labels', input.labels, true);
  if (!Array.isArray(sizing)) issues.push(...engine.issues(input, sizing));
  return issues;
}

// ---------------------------------------------------------------------------------------------------
// Rendering

/** The keys of a record in sorted order, so that output does not depend on the input's key order. */
function sorted<V>(rec: Record<string, V> | undefined): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of Object.keys(rec ?? {}).sort()) out[k] = (rec as Record<string, V>)[k];
  return out;
}

/** JSON with object keys sorted at every level: the basis of the spec hash. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? sorted(v as Record<string, unknown>) : v,
  );
}

/**
 * sha256 (hex) of the spec without `replicas` (which the autoscaler owns once the service runs):
 * what `troupe.io/spec-hash` holds. Recompute it on a desired spec to tell whether a re-apply changes
 * anything Troupe owns.
 */
export function specHash(spec: LeaderWorkerSetSpec): string {
  const { replicas: _replicas, ...rest } = spec;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

const SECURITY_CONTEXT: SecurityContext = { allowPrivilegeEscalation: false, privileged: false };

const SYNC_SCRIPT = [
  'set -eu',
  'mkdir -p "$MODEL_DIR"',
  'echo "syncing $SOURCE_URL to $MODEL_DIR"',
  'aws s3 sync --endpoint-url "$S3_ENDPOINT" --no-progress --only-show-errors "$SOURCE_URL" "$MODEL_DIR"',
  'set -- "$MODEL_DIR"/*',
  'if [ ! -e "$1" ]; then echo "no files under $SOURCE_URL" >&2; exit 1; fi',
  'echo "model weights ready in $MODEL_DIR"',
].join('\n');

function secretEnv(name: string, w: WeightsSource, key: string): EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: w.credentialsSecret, key } } };
}

function credentialsEnv(w: WeightsSource): EnvVar[] {
  return [
    secretEnv('AWS_ACCESS_KEY_ID', w, w.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID'),
    secretEnv('AWS_SECRET_ACCESS_KEY', w, w.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY'),
    { name: 'AWS_DEFAULT_REGION', value: w.region ?? 'us-east-1' },
    { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
  ];
}

/** Environment of the engine containers: streaming credentials (from the Secret), then the user's. */
function engineEnv(input: RenderInput): EnvVar[] {
  const w = input.weights;
  const env: EnvVar[] = [];
  if (w.mode === 'streamer') {
    env.push(
      ...credentialsEnv(w),
      { name: 'AWS_ENDPOINT_URL', value: w.endpoint },
      { name: 'RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING', value: '0' },
    );
  }
  const user = envEntries(input.service.engine.env).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const { name, value } of user) env.push({ name, value });
  return env;
}

function fetchWeightsContainer(input: RenderInput, w: InitContainerWeights): Container {
  const m = input.model;
  return {
    name: FETCH_WEIGHTS_CONTAINER,
    image: w.syncImage ?? DEFAULT_SYNC_IMAGE,
    command: w.syncCommand ? [...w.syncCommand] : ['/bin/sh', '-c', SYNC_SCRIPT],
    env: [
      ...credentialsEnv(w),
      { name: 'S3_ENDPOINT', value: w.endpoint },
      { name: 'S3_BUCKET', value: w.bucket },
      { name: 'S3_PREFIX', value: m.storagePrefix },
      { name: 'SOURCE_URL', value: s3Url(w, m) },
      { name: 'MODEL_DIR', value: modelDir(m) },
    ],
    volumeMounts: [{ name: WEIGHTS_VOLUME, mountPath: MODELS_DIR }],
    securityContext: { ...SECURITY_CONTEXT },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

const GiB = 1024 ** 3;

function volumes(input: RenderInput): Volume[] {
  const out: Volume[] = [{ name: SHM_VOLUME, emptyDir: { medium: 'Memory' } }];
  if (input.weights.mode === 'init-container') {
    const bytes = input.model.weightBytes;
    // 10% + 1 GiB over the files' size: room for the sync tool's temporary files.
    out.push({
      name: WEIGHTS_VOLUME,
      emptyDir: bytes === undefined ? {} : { sizeLimit: `${Math.ceil((bytes * 1.1) / GiB) + 1}Gi` },
    });
  }
  return out;
}

function mounts(input: RenderInput): VolumeMount[] {
  const out: VolumeMount[] = [{ name: SHM_VOLUME, mountPath: '/dev/shm' }];
  if (input.weights.mode === 'init-container')
    out.push({ name: WEIGHTS_VOLUME, mountPath: MODELS_DIR, readOnly: true });
  return out;
}

function healthProbe(periodSeconds: number, failureThreshold: number): Probe {
  return {
    httpGet: { path: '/health', port: 'http', scheme: 'HTTP' },
    periodSeconds,
    timeoutSeconds: 5,
    successThreshold: 1,
    failureThreshold,
  };
}

function podSpec(input: RenderInput, main: Container): PodSpec {
  const s = input.service;
  const w = input.weights;
  const spec: PodSpec =
    w.mode === 'init-container'
      ? { initContainers: [fetchWeightsContainer(input, w)], containers: [main] }
      : { containers: [main] };
  spec.volumes = volumes(input);
  if (s.nodeSelector && Object.keys(s.nodeSelector).length) spec.nodeSelector = sorted(s.nodeSelector);
  if (s.tolerations?.length) spec.tolerations = s.tolerations.map((t) => ({ ...t }));
  // Service links would put e.g. VLLM_PORT=tcp://… into the environment of a service named "vllm".
  spec.enableServiceLinks = false;
  spec.terminationGracePeriodSeconds = s.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS;
  return spec;
}

function template(labels: Record<string, string>, role: string, spec: PodSpec): PodTemplateSpec {
  return { metadata: { labels: { ...labels, [TROUPE_LABELS.role]: role } }, spec };
}

/**
 * The LeaderWorkerSet of a service. Throws AppException (422, with field issues) when the input is
 * invalid; `validateRenderInput` returns the same issues without throwing.
 */
export function renderLeaderWorkerSet(input: RenderInput): LeaderWorkerSet {
  const issues = validateRenderInput(input);
  const sizing = sizingOf(input);
  if (issues.length || Array.isArray(sizing)) {
    const all = issues.length ? issues : (sizing as FieldIssue[]);
    throw new AppException(
      ErrorCode.Unprocessable,
      `Cannot deploy: ${all.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      { issues: all },
    );
  }
  const { service: s, model: m } = input;
  const p = s.placement ?? {};
  const r = s.rollout ?? {};
  const gpuResource = s.gpuResource ?? DEFAULT_GPU_RESOURCE;
  const gpus = String(sizing.gpusPerPod);
  const resources = { limits: { [gpuResource]: gpus }, requests: { [gpuResource]: gpus } };
  const env = engineEnv(input);
  const engine = engineOf(input);

  const labels: Record<string, string> = {
    [TROUPE_LABELS.service]: s.name,
    [TROUPE_LABELS.project]: s.projectId,
    [TROUPE_LABELS.modelVersion]: m.versionId,
    ...sorted(input.labels),
  };

  const leader: Container = {
    name: engine.containers.leader,
    image: s.engine.image,
    command: engine.leaderCommand(input, sizing),
    ...(env.length ? { env } : {}),
    ports: [{ name: 'http', containerPort: engine.httpPort, protocol: 'TCP' }],
    resources,
    volumeMounts: mounts(input),
    // Loading hundreds of GB and gathering the group takes minutes: up to an hour before giving up.
    startupProbe: healthProbe(10, 360),
    readinessProbe: healthProbe(10, 3),
    securityContext: { ...SECURITY_CONTEXT },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  const worker: Container = {
    name: engine.containers.worker,
    image: s.engine.image,
    command: engine.workerCommand(input, sizing),
    ...(env.length ? { env: env.map((v) => ({ ...v })) } : {}),
    resources: { limits: { ...resources.limits }, requests: { ...resources.requests } },
    volumeMounts: mounts(input),
    securityContext: { ...SECURITY_CONTEXT },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };

  const rollingUpdateConfiguration: LeaderWorkerSetSpec['rolloutStrategy']['rollingUpdateConfiguration'] = {
    maxUnavailable: r.maxUnavailable ?? DEFAULT_MAX_UNAVAILABLE,
    maxSurge: r.maxSurge ?? DEFAULT_MAX_SURGE,
  };
  if (r.partition !== undefined) rollingUpdateConfiguration.partition = r.partition;

  const spec: LeaderWorkerSetSpec = {
    replicas: s.replicas,
    leaderWorkerTemplate: {
      size: sizing.groupSize,
      leaderTemplate: template(labels, ROLE_LEADER, podSpec(input, leader)),
      workerTemplate: template(labels, ROLE_WORKER, podSpec(input, worker)),
      restartPolicy: p.restartPolicy ?? DEFAULT_RESTART_POLICY,
    },
    startupPolicy: p.startupPolicy ?? DEFAULT_STARTUP_POLICY,
    rolloutStrategy: { type: 'RollingUpdate', rollingUpdateConfiguration },
  };
  if (p.subdomainPolicy) spec.networkConfig = { subdomainPolicy: p.subdomainPolicy };

  const annotations: Record<string, string> = {};
  if (p.exclusiveTopology) annotations[LWS_ANNOTATIONS.exclusiveTopology] = p.exclusiveTopology;
  annotations[TROUPE_ANNOTATIONS.model] = `${m.name}/${m.version}`;
  if (s.projectName) annotations[TROUPE_ANNOTATIONS.projectName] = s.projectName;
  annotations[TROUPE_ANNOTATIONS.servedModelName] = s.servedModelName;
  annotations[TROUPE_ANNOTATIONS.specHash] = specHash(spec);

  return {
    apiVersion: LWS_API_VERSION,
    kind: LWS_KIND,
    metadata: { name: s.name, namespace: s.namespace, labels: { ...labels }, annotations },
    spec,
  };
}

/** The manifest as YAML (for `GET …/manifest`), keys in rendering order. */
export function toYaml(lws: LeaderWorkerSet): string {
  return stringify(lws, { lineWidth: 0 });
}
