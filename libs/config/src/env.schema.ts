import { z } from 'zod';

export const ROLES = ['api', 'gateway', 'worker'] as const;
export type Role = (typeof ROLES)[number];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `must be >= ${min}` })
        .max(max, { message: `must be <= ${max}` }),
    );
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

/**
 * Every environment variable Troupe reads, with its default and meaning. The README's configuration
 * table is written from this list; `secret` marks values never printed.
 */
export const ENV = {
  NODE_ENV: {
    schema: z.enum(['development', 'production', 'test']).default('development'),
    doc: 'Runtime mode.',
  },
  HOST: { schema: z.string().min(1).default('0.0.0.0'), doc: 'Address the HTTP server listens on.' },
  PORT: { schema: int(0, 65535).default(3000), doc: 'HTTP port (0 picks a free one).' },
  ROLES: {
    schema: z
      .string()
      .default(ROLES.join(','))
      .transform((v) =>
        v
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(z.enum(ROLES, { message: `each role must be one of ${ROLES.join(', ')}` }))
          .min(1, { message: 'at least one role' }),
      ),
    doc: 'Comma-separated roles this process runs: api (/api/v1), gateway (/v1), worker (queues, watchers).',
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    doc: 'Minimum log level (pino).',
  },
  LOG_PRETTY: {
    schema: bool.default(false),
    doc: 'Human-readable logs instead of JSON lines (development).',
  },
  DATABASE_URL: {
    schema: url(['postgres:', 'postgresql:']),
    doc: 'PostgreSQL connection URL (required).',
    secret: true,
  },
  DATABASE_POOL_MAX: { schema: int(1, 500).default(20), doc: 'Maximum PostgreSQL connections per process.' },
  REDIS_URL: {
    schema: url(['redis:', 'rediss:']),
    doc: 'Redis URL for queues, counters and pub/sub (required).',
    secret: true,
  },
  TROUPE_ADMIN_KEY: {
    schema: z
      .string()
      .regex(/^troupe_[A-Za-z0-9_-]{22,}$/, {
        message: 'must be troupe_ followed by at least 22 URL-safe characters (128 bits)',
      })
      .optional(),
    doc: 'Bootstrap admin key accepted in addition to stored keys. `npm run dev` generates one when unset.',
    secret: true,
  },
  AUTH_CACHE_TTL_MS: {
    schema: int(0, 600_000).default(10_000),
    doc: 'How long a verified key stays cached in memory; revocation clears it at once.',
  },
  API_BODY_LIMIT_BYTES: {
    schema: int(1024, 1 << 30).default(1 << 20),
    doc: 'Largest JSON body accepted by /api/v1.',
  },
  SHUTDOWN_TIMEOUT_MS: {
    schema: int(0, 600_000).default(15_000),
    doc: 'Grace period for in-flight work on SIGTERM.',
  },
  QUEUE_PREFIX: {
    schema: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .default('troupe'),
    doc: 'Key prefix of BullMQ queues in Redis.',
  },
  WORKER_CONCURRENCY: {
    schema: int(1, 256).default(4),
    doc: 'Jobs processed at once per queue by a worker process.',
  },
  UPLOAD_MAX_FILE_BYTES: {
    schema: int(1, 2 ** 50).default(256 * 2 ** 30),
    doc: 'Largest single file of a model version (413 above).',
  },
  UPLOAD_MAX_VERSION_BYTES: {
    schema: int(1, 2 ** 52).default(2 * 2 ** 40),
    doc: 'Largest total size of one model version (413 above).',
  },
  UPLOAD_PART_BYTES: {
    schema: int(5 * 2 ** 20, 5 * 2 ** 30).default(16 * 2 ** 20),
    doc: 'Multipart part size for uploads (grown for files that would need more than 10,000 parts).',
  },
  UPLOAD_HASH_HOLD_BYTES: {
    schema: int(0, 2 ** 40).default(128 * 2 ** 20),
    doc: 'Memory per process for parts that arrive before their predecessor, so the whole-file sha256 is computed without reading them back.',
  },
  UPLOAD_HASH_THREADS: {
    schema: int(0, 64).default(2),
    doc: 'Worker threads per process computing the whole-file sha256 of upload sessions (resumable hash state, so WebAssembly: about 125 MiB/s per thread without SHA-NI); 0 hashes on the event loop.',
  },
  UPLOAD_MAX_CONCURRENT: {
    schema: int(1, 10_000).default(64),
    doc: 'Upload requests (file PUTs and session parts) one server process takes at once; more answer 429 with Retry-After.',
  },
  UPLOAD_MAX_CONCURRENT_PER_PROJECT: {
    schema: int(1, 10_000).default(16),
    doc: 'Upload requests of one project one server process takes at once; more answer 429 with Retry-After.',
  },
  UPLOAD_SESSION_TTL_MS: {
    schema: int(60_000, 30 * 86_400_000).default(86_400_000),
    doc: 'An upload session not completed within this time is aborted.',
  },
  UPLOAD_CLEANUP_INTERVAL_MS: {
    schema: int(1_000, 86_400_000).default(600_000),
    doc: 'How often the worker aborts expired upload sessions.',
  },
  S3_ENDPOINT: {
    schema: url(['http:', 'https:']).optional(),
    doc: 'S3/MinIO endpoint URL. Setting it enables object storage.',
  },
  S3_REGION: { schema: z.string().min(1).default('us-east-1'), doc: 'S3 region.' },
  S3_ACCESS_KEY: {
    schema: z.string().min(1).optional(),
    doc: 'S3 access key (required with S3_ENDPOINT).',
    secret: true,
  },
  S3_SECRET_KEY: {
    schema: z.string().min(1).optional(),
    doc: 'S3 secret key (required with S3_ENDPOINT).',
    secret: true,
  },
  S3_BUCKET: {
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be a valid bucket name' })
      .default('troupe-models'),
    doc: 'Bucket for model weights.',
  },
  KUBECONFIG: {
    schema: z.string().min(1).optional(),
    doc: 'Path to a kubeconfig. Setting it (or KUBE_IN_CLUSTER) enables the Kubernetes integration.',
  },
  KUBE_IN_CLUSTER: {
    schema: bool.default(false),
    doc: 'Use the in-cluster service account instead of a kubeconfig.',
  },
  KUBE_NAMESPACE: {
    schema: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'must be a DNS-1123 label' })
      .default('default'),
    doc: 'Default namespace for inference services.',
  },
  // Gateway limits and usage accounting (libs/gateway/src/limits, libs/gateway/src/usage).
  GATEWAY_DEFAULT_REQUESTS_PER_MINUTE: {
    schema: int(0, 1_000_000_000).default(0),
    doc: 'Requests per minute per API key when the project sets none (0 = unlimited).',
  },
  GATEWAY_DEFAULT_TOKENS_PER_MINUTE: {
    schema: int(0, 1_000_000_000).default(0),
    doc: 'Prompt + completion tokens per minute per API key when the project sets none (0 = unlimited).',
  },
  GATEWAY_DEFAULT_CONCURRENT_STREAMS: {
    schema: int(0, 1_000_000).default(0),
    doc: 'Streaming responses open at once per API key when the project sets none (0 = unlimited).',
  },
  GATEWAY_LIMITS_REFRESH_MS: {
    schema: int(1_000, 3_600_000).default(10_000),
    doc: 'How often gateway processes reload project limits (a change is also announced on Redis at once).',
  },
  GATEWAY_LIMITS_REDIS_TIMEOUT_MS: {
    schema: int(1, 10_000).default(250),
    doc: 'Longest wait for Redis when admitting a request; past it the process enforces the limits alone.',
  },
  GATEWAY_STREAM_LEASE_MS: {
    schema: int(3_000, 3_600_000).default(60_000),
    doc: 'Lease of a concurrent-stream slot in Redis, renewed while the stream is open: a crashed process frees its slots after it.',
  },
  GATEWAY_USAGE_FLUSH_MS: {
    schema: int(10, 600_000).default(1_000),
    doc: 'Usage records are written to PostgreSQL in batches at least this often.',
  },
  GATEWAY_USAGE_BATCH_SIZE: {
    schema: int(1, 10_000).default(500),
    doc: 'Usage records per batch insert (a full batch is written at once).',
  },
  GATEWAY_USAGE_BUFFER_MAX: {
    schema: int(1, 10_000_000).default(100_000),
    doc: 'Usage records kept in memory while PostgreSQL is unreachable; beyond it new records are dropped (counted in troupe_usage_records_dropped_total).',
  },
  // ---- gateway hot path (OpenAI-compatible proxy: /v1/*) ----
  GATEWAY_BODY_LIMIT_BYTES: {
    schema: int(1024, 1 << 30).default(32 * 2 ** 20),
    doc: 'Largest request body accepted by /v1 (413 above); long contexts need more than the /api limit.',
  },
  GATEWAY_CONNECT_TIMEOUT_MS: {
    schema: int(1, 600_000).default(5_000),
    doc: 'Gateway: time allowed to open a connection to an engine before trying another group.',
  },
  GATEWAY_FIRST_BYTE_TIMEOUT_MS: {
    schema: int(1, 3_600_000).default(600_000),
    doc: 'Gateway: time allowed from sending a request to an engine to its first response byte (a whole non-streamed completion, or the first streamed chunk).',
  },
  GATEWAY_IDLE_TIMEOUT_MS: {
    schema: int(1, 3_600_000).default(60_000),
    doc: 'Gateway: longest silence allowed between two chunks of a streamed response.',
  },
  GATEWAY_UPSTREAM_CONNECTIONS: {
    schema: int(1, 65_536).default(1024),
    doc: 'Gateway: most keep-alive connections per engine (leader pod) per gateway process.',
  },
  GATEWAY_RETRY_AFTER_SECONDS: {
    schema: int(1, 3600).default(5),
    doc: 'Gateway: Retry-After sent with 503 when a service has no ready group.',
  },
  GATEWAY_HOLD_TIMEOUT_MS: {
    schema: int(0, 3_600_000).default(300_000),
    doc: 'Gateway: how long a request to a service scaled to zero waits for a group to become ready (then 503).',
  },
  GATEWAY_HOLD_MAX_PER_SERVICE: {
    schema: int(0, 1_000_000).default(256),
    doc: 'Gateway: requests held per service and process while it scales from zero; more get 503.',
  },
  GATEWAY_HOLD_KEEPALIVE_MS: {
    schema: int(100, 600_000).default(10_000),
    doc: 'Gateway: a held streaming request gets its response headers and an SSE comment (": keep-alive") this often.',
  },
  GATEWAY_SCRAPE_INTERVAL_MS: {
    schema: int(0, 600_000).default(2_000),
    doc: "Gateway: how often each ready leader's /metrics is read for its waiting queue (picker tie-break); 0 disables.",
  },
  GATEWAY_SERVICE_REFRESH_MS: {
    schema: int(500, 600_000).default(10_000),
    doc: 'Gateway: full reload of the in-memory service table (changes also arrive at once on Redis).',
  },
  GATEWAY_AFFINITY_HEADER: {
    schema: z
      .string()
      .regex(/^[a-z0-9-]*$/, { message: 'must be a lower-case header name (or empty to disable)' })
      .default('x-session-id'),
    doc: 'Gateway: request header whose value keeps a session on the same group (empty: no header affinity).',
  },
  GATEWAY_AFFINITY_USER: {
    schema: bool.default(true),
    doc: 'Gateway: requests with the same OpenAI `user` field go to the same group while it is not overloaded.',
  },
  GATEWAY_ROUTING_STRATEGY: {
    schema: z.enum(['cache-aware', 'least-outstanding', 'affinity']).default('cache-aware'),
    doc: "Gateway: how a ready group is picked for services whose spec sets no `routing.strategy` (cache-aware: the group estimated to hold the prompt's prefix, within a load bound).",
  },
  // Group autoscaler (libs/core/src/autoscaling, apps/server/src/worker/autoscaler*): worker role.
  AUTOSCALER_ENABLED: {
    schema: bool.default(true),
    doc: 'Run the group autoscaler loop in worker processes (one acts at a time, by lease).',
  },
  AUTOSCALER_TICK_MS: {
    schema: int(50, 600_000).default(2_000),
    doc: "Autoscaler: how often each autoscaled service's load is read and a decision made.",
  },
  AUTOSCALER_SCRAPE_TIMEOUT_MS: {
    schema: int(10, 60_000).default(1_000),
    doc: "Autoscaler: longest wait for a leader's vLLM /metrics; a group not answering counts as unseen, not idle.",
  },
  AUTOSCALER_LEASE_TTL_MS: {
    schema: int(500, 600_000).default(10_000),
    doc: 'Autoscaler: lease in Redis that lets one worker act; renewed every third of it, taken over by another worker after it expires.',
  },
  AUTOSCALER_MAX_MANUAL_REPLICAS: {
    schema: int(1, 10_000).default(64),
    doc: 'Most groups an admin may pin a service at with POST /api/v1/services/{name}/scale.',
  },
  AUTOSCALER_CLOCK_RATE: {
    schema: z.coerce.number().min(0.001).max(1000).default(1),
    doc: 'Autoscaler: policy seconds per real second (tests and benchmarks run windows faster with e.g. 10); keep 1 in production.',
  },
} satisfies Record<string, { schema: z.ZodType; doc: string; secret?: boolean }>;

export type EnvName = keyof typeof ENV;
export type ParsedEnv = { [K in EnvName]: z.output<(typeof ENV)[K]['schema']> };
