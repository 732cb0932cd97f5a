// vLLM detection and simulated engines for leader pods.

import { parseVllmCommand, startEngine, type EngineHandle, type VllmCommand } from '@troupe/engine-sim';
import type { Container } from './types';

export interface EngineDefaults {
  maxNumSeqs?: number;
  tpotMs?: number;
  ttftMs?: number;
  prefillMsPerToken?: number;
  kvCacheTokens?: number;
}

/** Expands Kubernetes `$(VAR)` references from the container's literal env; `$$(VAR)` escapes. */
export function expandVars(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && name in env ? env[name] : m;
  });
}

/** The vLLM server a container runs, with `$(VAR)` references expanded first. */
export function vllmOf(container: Container): VllmCommand | null {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  const command = container.command?.map((c) => expandVars(c, env));
  const args = container.args?.map((a) => expandVars(a, env));
  return parseVllmCommand(command, args);
}

export function launchEngine(
  host: string,
  cmd: VllmCommand,
  defaults: EngineDefaults,
): Promise<EngineHandle> {
  return startEngine({
    host,
    port: cmd.port,
    model: cmd.model,
    servedModelNames: cmd.servedModelNames.length ? cmd.servedModelNames : undefined,
    maxNumSeqs: cmd.maxNumSeqs ?? defaults.maxNumSeqs,
    maxModelLen: cmd.maxModelLen,
    tpotMs: defaults.tpotMs,
    ttftMs: defaults.ttftMs,
    prefillMsPerToken: defaults.prefillMsPerToken,
    kvCacheTokens: defaults.kvCacheTokens,
  });
}

export type { EngineHandle, VllmCommand };
