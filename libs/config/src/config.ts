import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ENV, EnvName, ParsedEnv, Role } from './env.schema';

export interface S3Config {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
}

export interface KubeConfigSettings {
  kubeconfigPath?: string;
  inCluster: boolean;
  namespace: string;
}

/** The gateway's hot path (GATEWAY_*). */
export interface GatewayConfig {
  bodyLimitBytes: number;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  upstreamConnections: number;
  retryAfterSeconds: number;
  hold: { timeoutMs: number; maxPerService: number; keepAliveMs: number };
  scrapeIntervalMs: number;
  serviceRefreshMs: number;
  affinity: { header: string | null; user: boolean };
  /** Strategy of services whose spec names none. */
  routingStrategy: 'cache-aware' | 'least-outstanding' | 'affinity';
}

/** Typed configuration; the only way code reads settings. */
export interface AppConfig {
  env: ParsedEnv['NODE_ENV'];
  roles: ReadonlySet<Role>;
  http: { host: string; port: number; bodyLimitBytes: number };
  log: { level: ParsedEnv['LOG_LEVEL']; pretty: boolean };
  database: { url: string; poolMax: number };
  redis: { url: string };
  auth: { adminKey?: string; cacheTtlMs: number };
  queue: { prefix: string; concurrency: number };
  shutdownTimeoutMs: number;
  uploads: {
    maxFileBytes: number;
    maxVersionBytes: number;
    partBytes: number;
    hashHoldBytes: number;
    hashThreads: number;
    maxConcurrent: number;
    maxConcurrentPerProject: number;
    sessionTtlMs: number;
    cleanupIntervalMs: number;
  };
  gateway: GatewayConfig;
  /** Present when S3_ENDPOINT is set. */
  s3?: S3Config;
  /** Present when KUBECONFIG or KUBE_IN_CLUSTER is set. */
  kube?: KubeConfigSettings;
  /** Gateway limits per API key (0 = unlimited) and usage accounting. */
  gatewayLimits: GatewayLimitsConfig;
  /** The group autoscaler (worker role). */
  autoscaler: AutoscalerConfig;
}

export interface AutoscalerConfig {
  enabled: boolean;
  tickMs: number;
  scrapeTimeoutMs: number;
  leaseTtlMs: number;
  maxManualReplicas: number;
  clockRate: number;
}

export interface GatewayLimitsConfig {
  defaults: { requestsPerMinute: number; tokensPerMinute: number; concurrentStreams: number };
  refreshMs: number;
  redisTimeoutMs: number;
  streamLeaseMs: number;
  usage: { flushMs: number; batchSize: number; bufferMax: number };
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

/** Validates every variable at once and reports all problems together, naming each variable. */
export function loadConfig(env: Env): AppConfig {
  const problems: string[] = [];
  const parsed: Partial<Record<EnvName, unknown>> = {};
  for (const name of Object.keys(ENV) as EnvName[]) {
    const raw = env[name] === '' ? undefined : env[name];
    const result = (ENV[name].schema as z.ZodType).safeParse(raw);
    if (result.success) {
      parsed[name] = result.data;
    } else {
      const message = result.error.issues[0]?.message ?? 'invalid';
      const shown =
        raw === undefined ? 'missing' : ENV[name] && 'secret' in ENV[name] ? 'invalid value' : `got "${raw}"`;
      problems.push(
        raw === undefined ? `${name} is required (${ENV[name].doc})` : `${name}: ${message} (${shown})`,
      );
    }
  }
  const e = parsed as ParsedEnv;

  let s3: S3Config | undefined;
  const s3Given = [e.S3_ENDPOINT, e.S3_ACCESS_KEY, e.S3_SECRET_KEY].some((v) => v !== undefined);
  if (s3Given) {
    for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const) {
      if (e[name] === undefined && !problems.some((p) => p.startsWith(name))) {
        problems.push(
          `${name} is required when object storage is configured (S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY go together)`,
        );
      }
    }
    if (e.S3_ENDPOINT && e.S3_ACCESS_KEY && e.S3_SECRET_KEY) {
      s3 = {
        endpoint: e.S3_ENDPOINT,
        region: e.S3_REGION,
        accessKey: e.S3_ACCESS_KEY,
        secretKey: e.S3_SECRET_KEY,
        bucket: e.S3_BUCKET,
      };
    }
  }

  let kube: KubeConfigSettings | undefined;
  if (e.KUBECONFIG !== undefined || e.KUBE_IN_CLUSTER) {
    if (e.KUBECONFIG !== undefined && e.KUBE_IN_CLUSTER) {
      problems.push('KUBECONFIG and KUBE_IN_CLUSTER=true are exclusive: set one');
    } else if (e.KUBECONFIG !== undefined && !existsSync(e.KUBECONFIG)) {
      problems.push(`KUBECONFIG: file not found (got "${e.KUBECONFIG}")`);
    } else {
      kube = { kubeconfigPath: e.KUBECONFIG, inCluster: e.KUBE_IN_CLUSTER, namespace: e.KUBE_NAMESPACE };
    }
  }

  if (problems.length > 0) throw new ConfigValidationError(problems);

  return {
    env: e.NODE_ENV,
    roles: new Set(e.ROLES),
    http: { host: e.HOST, port: e.PORT, bodyLimitBytes: e.API_BODY_LIMIT_BYTES },
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY },
    database: { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX },
    redis: { url: e.REDIS_URL },
    auth: { adminKey: e.TROUPE_ADMIN_KEY, cacheTtlMs: e.AUTH_CACHE_TTL_MS },
    queue: { prefix: e.QUEUE_PREFIX, concurrency: e.WORKER_CONCURRENCY },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    uploads: {
      maxFileBytes: e.UPLOAD_MAX_FILE_BYTES,
      maxVersionBytes: e.UPLOAD_MAX_VERSION_BYTES,
      partBytes: e.UPLOAD_PART_BYTES,
      hashHoldBytes: e.UPLOAD_HASH_HOLD_BYTES,
      hashThreads: e.UPLOAD_HASH_THREADS,
      maxConcurrent: e.UPLOAD_MAX_CONCURRENT,
      maxConcurrentPerProject: e.UPLOAD_MAX_CONCURRENT_PER_PROJECT,
      sessionTtlMs: e.UPLOAD_SESSION_TTL_MS,
      cleanupIntervalMs: e.UPLOAD_CLEANUP_INTERVAL_MS,
    },
    gateway: {
      bodyLimitBytes: e.GATEWAY_BODY_LIMIT_BYTES,
      connectTimeoutMs: e.GATEWAY_CONNECT_TIMEOUT_MS,
      firstByteTimeoutMs: e.GATEWAY_FIRST_BYTE_TIMEOUT_MS,
      idleTimeoutMs: e.GATEWAY_IDLE_TIMEOUT_MS,
      upstreamConnections: e.GATEWAY_UPSTREAM_CONNECTIONS,
      retryAfterSeconds: e.GATEWAY_RETRY_AFTER_SECONDS,
      hold: {
        timeoutMs: e.GATEWAY_HOLD_TIMEOUT_MS,
        maxPerService: e.GATEWAY_HOLD_MAX_PER_SERVICE,
        keepAliveMs: e.GATEWAY_HOLD_KEEPALIVE_MS,
      },
      scrapeIntervalMs: e.GATEWAY_SCRAPE_INTERVAL_MS,
      serviceRefreshMs: e.GATEWAY_SERVICE_REFRESH_MS,
      affinity: { header: e.GATEWAY_AFFINITY_HEADER || null, user: e.GATEWAY_AFFINITY_USER },
      routingStrategy: e.GATEWAY_ROUTING_STRATEGY,
    },
    s3,
    kube,
    gatewayLimits: {
      defaults: {
        requestsPerMinute: e.GATEWAY_DEFAULT_REQUESTS_PER_MINUTE,
        tokensPerMinute: e.GATEWAY_DEFAULT_TOKENS_PER_MINUTE,
        concurrentStreams: e.GATEWAY_DEFAULT_CONCURRENT_STREAMS,
      },
      refreshMs: e.GATEWAY_LIMITS_REFRESH_MS,
      redisTimeoutMs: e.GATEWAY_LIMITS_REDIS_TIMEOUT_MS,
      streamLeaseMs: e.GATEWAY_STREAM_LEASE_MS,
      usage: {
        flushMs: e.GATEWAY_USAGE_FLUSH_MS,
        batchSize: e.GATEWAY_USAGE_BATCH_SIZE,
        bufferMax: e.GATEWAY_USAGE_BUFFER_MAX,
      },
    },
    autoscaler: {
      enabled: e.AUTOSCALER_ENABLED,
      tickMs: e.AUTOSCALER_TICK_MS,
      scrapeTimeoutMs: e.AUTOSCALER_SCRAPE_TIMEOUT_MS,
      leaseTtlMs: e.AUTOSCALER_LEASE_TTL_MS,
      maxManualReplicas: e.AUTOSCALER_MAX_MANUAL_REPLICAS,
      clockRate: e.AUTOSCALER_CLOCK_RATE,
    },
  };
}

/** The one place that reads process.env. */
export function loadConfigFromProcess(): AppConfig {
  return loadConfig(process.env);
}
