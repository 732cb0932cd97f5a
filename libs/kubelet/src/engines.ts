// Which simulated engine a pod's container runs, and starting it. Engine-aware: vLLM's server, or an
// SGLang rank (only rank 0 serves HTTP; the other ranks, like vLLM's Ray workers, run and serve
// nothing). The command parsing itself is @troupe/engine-sim's.

import {
  parseEngineCommand,
  startEngine,
  type EngineCommand,
  type EngineHandle,
  type EngineKind,
} from '@troupe/engine-sim';
import type { Container } from './types';

export interface EngineDefaults {
  maxNumSeqs?: number;
  tpotMs?: number;
  ttftMs?: number;
  prefillMsPerToken?: number;
  kvCacheTokens?: number;
}

/** An engine command that runs an HTTP server. */
export type ServingCommand = Extract<EngineCommand, { serves: true }>;

/** Expands Kubernetes `$(VAR)` references from the container's literal env; `$$(VAR)` escapes. */
export function expandVars(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && name in env ? env[name] : m;
  });
}

/**
 * The engine a container runs, with `$(VAR)` references expanded first from its env (the LWS
 * controller puts `LWS_WORKER_INDEX` and the others there as values): vLLM's or SGLang's server, an
 * SGLang rank that serves nothing, an SGLang command SGLang would refuse, or null (a Ray worker, a
 * sync tool, nginx…).
 */
export function engineOf(container: Container): EngineCommand | null {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  const command = container.command?.map((c) => expandVars(c, env));
  const args = container.args?.map((a) => expandVars(a, env));
  return parseEngineCommand(command, args);
}

const NAMES: Record<EngineKind, string> = { vllm: 'vLLM', sglang: 'SGLang' };

/** `vLLM`, `SGLang`: for logs and events. */
export function engineName(kind: EngineKind): string {
  return NAMES[kind];
}

export function launchEngine(
  host: string,
  cmd: ServingCommand,
  defaults: EngineDefaults,
): Promise<EngineHandle> {
  return startEngine({
    kind: cmd.kind,
    host,
    port: cmd.port,
    model: cmd.model,
    servedModelNames: cmd.servedModelNames.length ? cmd.servedModelNames : undefined,
    enableMetrics: cmd.enableMetrics,
    maxNumSeqs: cmd.maxNumSeqs ?? defaults.maxNumSeqs,
    maxModelLen: cmd.maxModelLen,
    tpotMs: defaults.tpotMs,
    ttftMs: defaults.ttftMs,
    prefillMsPerToken: defaults.prefillMsPerToken,
    kvCacheTokens: defaults.kvCacheTokens,
  });
}

export type { EngineCommand, EngineHandle, EngineKind };
