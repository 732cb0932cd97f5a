// Which simulated engine a container's command line asks for: every engine's parser is asked, the
// first that recognises its server wins. Pure.

import { parseSglangCommand } from './sglang-command';
import type { EngineCommand } from './types';
import { parseVllmCommand } from './vllm-command';

/**
 * The engine in a container's `command` + `args` (Kubernetes `$(VAR)` already expanded), or null
 * when they run no engine's server (a Ray worker, a sync tool, nginx…).
 */
export function parseEngineCommand(
  command: string[] | undefined,
  args: string[] | undefined,
): EngineCommand | null {
  const vllm = parseVllmCommand(command, args);
  if (vllm) return { kind: 'vllm', serves: true, enableMetrics: true, ...vllm };
  const sglang = parseSglangCommand(command, args);
  if (!sglang) return null;
  if ('error' in sglang) return { kind: 'sglang', serves: false, error: sglang.error };
  if (sglang.nodeRank !== 0)
    return { kind: 'sglang', serves: false, rank: sglang.nodeRank, of: sglang.nnodes };
  const cmd: EngineCommand = {
    kind: 'sglang',
    serves: true,
    model: sglang.model,
    servedModelNames: [sglang.servedModelName],
    port: sglang.port,
    host: sglang.host,
    enableMetrics: sglang.enableMetrics,
  };
  if (sglang.maxRunningRequests !== undefined) cmd.maxNumSeqs = sglang.maxRunningRequests;
  if (sglang.contextLength !== undefined) cmd.maxModelLen = sglang.contextLength;
  return cmd;
}
