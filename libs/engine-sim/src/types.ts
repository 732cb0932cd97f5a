// Contract of the simulated engines (vLLM's and SGLang's OpenAI servers), shared by their users
// (libs/kubelet, apps/cluster-sim, benchmarks, tests).

/** Which engine's server is simulated: routes, wire format and metric names (dialects/*.ts). */
export type EngineKind = 'vllm' | 'sglang';

/** Capacity and timing of one simulated engine (one vLLM or SGLang OpenAI server). */
export interface EngineOptions {
  /** Whose server this is (default `vllm`). */
  kind?: EngineKind;
  /** Address to listen on, e.g. a pod IP such as 127.0.1.7. */
  host: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** The model path or id (`vllm serve MODEL`, SGLang `--model-path`). */
  model: string;
  /** Names the engine answers to (`--served-model-name`); defaults to [model]. */
  servedModelNames?: string[];
  /** Serve `/metrics` (SGLang only with `--enable-metrics`; vLLM always). Default true. */
  enableMetrics?: boolean;
  /**
   * At most this many sequences decode at once (vLLM `--max-num-seqs`, SGLang
   * `--max-running-requests`); the rest wait. Default 256.
   */
  maxNumSeqs?: number;
  /** Milliseconds per output token per sequence. Default 10. */
  tpotMs?: number;
  /** Fixed time to first token, in milliseconds, on top of prefill. Default 20. */
  ttftMs?: number;
  /** Prefill cost in milliseconds per prompt token. Default 0.05. */
  prefillMsPerToken?: number;
  /** KV-cache capacity in tokens, for vllm:kv_cache_usage_perc. Default 65536. */
  kvCacheTokens?: number;
  /**
   * Automatic prefix caching (vLLM `--enable-prefix-caching`, on by default since v1; SGLang's radix
   * cache): prompt blocks computed once are kept, least recently used evicted first, up to
   * `kvCacheTokens`, and a later prompt pays prefill only for the tokens after its cached prefix.
   * Default true.
   */
  enablePrefixCaching?: boolean;
  /** Tokens per KV block (vLLM `--block-size`). Default 16. */
  blockSize?: number;
  /** Context length (vLLM `--max-model-len`, SGLang `--context-length`). Default 4096. */
  maxModelLen?: number;
  /**
   * Chance, per generated token, that the simulated sampler draws EOS (finish_reason "stop"), unless the
   * request sets `ignore_eos`. 0 makes every completion run to max_tokens. Default 0.005.
   */
  eosProbability?: number;
  /** max_tokens when the request sets neither max_tokens nor max_completion_tokens. Default 16. */
  defaultMaxTokens?: number;
  /** Dimension of /v1/embeddings vectors. Default 64. */
  embeddingDim?: number;
  /** Faults active from the start. */
  faults?: Partial<EngineFaults>;
}

/** Faults that can be injected at run time (cluster-sim admin API, tests). */
export interface EngineFaults {
  /** Multiply every delay by this factor (1 = normal). */
  slowFactor: number;
  /** Fraction (0..1) of requests answered with `errorStatus` instead of a completion. */
  errorRate: number;
  /** Status used for injected errors. Default 500. */
  errorStatus: number;
  /** When set, streams are cut (socket destroyed) after this many content chunks. */
  cutStreamsAfterChunks: number | null;
  /** When true, /health answers 503 (readiness fails). */
  unhealthy: boolean;
}

export interface EngineStats {
  running: number;
  waiting: number;
  /** Requests finished since start (completed, aborted or failed). */
  finished: number;
  /** Requests whose client went away before they finished. */
  aborted: number;
  promptTokens: number;
  generationTokens: number;
  /** Requests ended by the engine itself: injected errors and cut streams. */
  failed?: number;
  /** Fraction (0..1) of the KV cache held by running sequences. */
  kvCacheUsage?: number;
  /** Prompt tokens looked up in the prefix cache, and those found there. */
  prefixCacheQueries?: number;
  prefixCacheHits?: number;
}

export interface EngineHandle {
  readonly kind: EngineKind;
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly servedModelNames: string[];
  setFaults(faults: Partial<EngineFaults>): void;
  stats(): EngineStats;
  /** Stops listening and aborts every sequence in flight. */
  close(): Promise<void>;
}

/** What a pod's container command tells about the vLLM server it runs. */
export interface VllmCommand {
  model: string;
  servedModelNames: string[];
  port: number;
  host?: string;
  maxNumSeqs?: number;
  maxModelLen?: number;
}

/** What a pod's container command tells about SGLang's server (`python3 -m sglang.launch_server`). */
export interface SglangCommand {
  model: string;
  servedModelName: string;
  host: string;
  port: number;
  tp: number;
  pp: number;
  nnodes: number;
  /** This pod's rank in the group: rank 0 serves HTTP, the others only compute. */
  nodeRank: number;
  distInitAddr?: string;
  maxRunningRequests?: number;
  contextLength?: number;
  enableMetrics: boolean;
}

/**
 * The engine a container runs, whichever it is: `serves` when it runs an OpenAI server here (vLLM's
 * server, SGLang's rank 0), not when it only computes for one (a Ray worker is not recognised at all;
 * an SGLang rank above 0 is recognised and serves nothing). `error`: the engine would refuse its
 * arguments and exit.
 */
export type EngineCommand =
  | {
      kind: EngineKind;
      serves: true;
      model: string;
      servedModelNames: string[];
      port: number;
      host?: string;
      maxNumSeqs?: number;
      maxModelLen?: number;
      enableMetrics: boolean;
    }
  | { kind: EngineKind; serves: false; rank: number; of: number }
  | { kind: EngineKind; serves: false; error: string };
