// What the platform knows about one inference engine, in one place per engine (vllm.ts, sglang.ts):
// how its pods are started, which port serves HTTP, which flags the platform owns, which Prometheus
// names carry its load. The renderer, the extra-argument check, the gateway's picker and the
// autoscaler's scrape read the descriptor of a service's engine instead of testing the engine's name.

import type { FieldIssue } from '@troupe/common';
import type { RenderInput } from '../render';
import type { GroupSizing } from '../sizing';

export const ENGINE_KINDS = ['vllm', 'sglang'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];
/** Services stored before engines could be chosen run vLLM. */
export const DEFAULT_ENGINE_KIND: EngineKind = 'vllm';

export function isEngineKind(v: unknown): v is EngineKind {
  return typeof v === 'string' && (ENGINE_KINDS as readonly string[]).includes(v);
}

/** A flag of the engine's command line that the platform sets; users may not pass it. */
export interface OwnedFlag {
  names: readonly string[];
  why: string;
}

/** The Prometheus names of an engine's load, read by the gateway's picker and the autoscaler. */
export interface EngineMetricNames {
  /** Requests in the running batch. */
  running: string;
  /** Requests queued, not yet scheduled. */
  waiting: string;
  /** KV-cache use 0..1; the first name present wins (older releases used another name). */
  kvCacheUsage: readonly string[];
  promptTokens: string;
  generationTokens: string;
  /**
   * When set, series of one gauge that share this label's value are copies of one engine replica's
   * value (reported once per tensor / pipeline rank) and count once, as their largest; without the
   * label they all belong to one replica. Unset: every series is its own replica (summed).
   */
  replicaLabel?: string;
}

export interface EngineDescriptor {
  readonly kind: EngineKind;
  /** For messages: `vLLM`, `SGLang`. */
  readonly name: string;
  /** Port of the OpenAI-compatible HTTP server on the leader (the container port named `http`). */
  readonly httpPort: number;
  readonly containers: { readonly leader: string; readonly worker: string };
  /** Accepted `engine.dtype` values. */
  readonly dtypes: readonly string[];
  /** Flags the platform always sets (refused in `engine.extraArgs`). */
  readonly ownedFlags: readonly OwnedFlag[];
  /** Flags the platform sets when the engine streams the weights from object storage. */
  readonly streamerOwnedFlags: readonly OwnedFlag[];
  /** Flags without a value (besides `--enable-*`, `--disable-*`, `--no-*`), to read extra arguments. */
  readonly booleanFlags: ReadonlySet<string>;
  readonly metrics: EngineMetricNames;
  /** What this engine cannot run beyond the checks every engine shares (fields as in the spec). */
  issues(input: RenderInput, sizing: GroupSizing): FieldIssue[];
  /** The leader container's `command` (argv; Kubernetes expands `$(VAR)` in it). */
  leaderCommand(input: RenderInput, sizing: GroupSizing): string[];
  /** A worker container's `command`. */
  workerCommand(input: RenderInput, sizing: GroupSizing): string[];
}
