// Recognises vLLM's OpenAI server in a container's command + args (Kubernetes pod spec).

import { basename, findCommand, pythonModule } from './command-line';
import type { VllmCommand } from './types';

export { splitShell } from './command-line';

const DEFAULT_PORT = 8000;
/** vLLM's default model when none is given. */
const DEFAULT_MODEL = 'Qwen/Qwen3-0.6B';
const API_SERVER_MODULE = 'vllm.entrypoints.openai.api_server';
const CLI_MODULE = 'vllm.entrypoints.cli.main';
/** vLLM flags without a value that do not start with --enable-/--disable-/--no-. */
const BOOLEAN_FLAGS = new Set([
  '--enforce-eager',
  '--trust-remote-code',
  '--headless',
  '--async-scheduling',
  '--skip-tokenizer-init',
  '--return-tokens-as-token-ids',
  '--use-v2-block-manager',
  '--fully-sharded-loras',
  '--allow-credentials',
  '--uds',
]);
/** Flags only vLLM's server takes: with no command, args holding one are taken as the vllm-openai image's. */
const VLLM_ONLY_FLAGS = new Set([
  '--model',
  '--served-model-name',
  '--max-model-len',
  '--max-num-seqs',
  '--tensor-parallel-size',
  '--pipeline-parallel-size',
  '--gpu-memory-utilization',
]);

/** Parses vLLM's human-readable ints: 32768, 32k (x1000), 32K (x1024), 1m, 1M, 25.6k. */
function humanInt(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(v.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, k: 1e3, K: 1024, m: 1e6, M: 1024 ** 2, g: 1e9, G: 1024 ** 3 };
  const x = Math.round(Number(m[1]) * mult[m[2]]);
  return Number.isSafeInteger(x) && x > 0 ? x : undefined;
}

function intArg(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

function takesValue(flag: string): boolean {
  return !(
    BOOLEAN_FLAGS.has(flag) ||
    flag.startsWith('--enable-') ||
    flag.startsWith('--disable-') ||
    flag.startsWith('--no-')
  );
}

const isFlag = (a: string): boolean => a.startsWith('-') && !/^-\d/.test(a);

/** Parses the arguments after `vllm serve` (positional model allowed) or after the api_server module. */
function parseServerArgs(args: string[], positionalModel: boolean): VllmCommand {
  const flags = new Map<string, string[]>();
  let positional: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      if (positionalModel && positional === undefined && i + 1 < args.length) positional = args[i + 1];
      break;
    }
    if (!isFlag(a)) {
      if (positionalModel && positional === undefined) positional = a;
      continue;
    }
    const eq = a.indexOf('=');
    // argparse accepts --max_model_len for --max-model-len.
    const name = (eq >= 0 ? a.slice(0, eq) : a).replace(/_/g, '-');
    const values: string[] = [];
    if (eq >= 0) values.push(a.slice(eq + 1));
    else if (name === '--served-model-name') {
      while (i + 1 < args.length && !isFlag(args[i + 1])) values.push(args[++i]);
    } else if (takesValue(name) && i + 1 < args.length && !isFlag(args[i + 1])) {
      values.push(args[++i]);
    }
    flags.set(name, values); // the last occurrence wins, as with argparse
  }
  const first = (name: string): string | undefined => flags.get(name)?.[0];
  const model = positional ?? first('--model') ?? DEFAULT_MODEL;
  const names = flags.get('--served-model-name')?.filter((s) => s.length > 0);
  const cmd: VllmCommand = {
    model,
    servedModelNames: names?.length ? names : [model],
    port: intArg(first('--port')) ?? DEFAULT_PORT,
  };
  const host = first('--host');
  if (host !== undefined && host !== '') cmd.host = host;
  const maxNumSeqs = intArg(first('--max-num-seqs'));
  if (maxNumSeqs !== undefined) cmd.maxNumSeqs = maxNumSeqs;
  const maxModelLen = humanInt(first('--max-model-len'));
  if (maxModelLen !== undefined) cmd.maxModelLen = maxModelLen;
  return cmd;
}

/** The vLLM server run by one simple command (wrappers stripped), or null. */
function vllmServer(argv: string[]): VllmCommand | null {
  if (basename(argv[0]) === 'vllm' && argv[1] === 'serve') return parseServerArgs(argv.slice(2), true);
  const py = pythonModule(argv);
  if (py?.module === API_SERVER_MODULE) return parseServerArgs(py.args, false);
  if (py?.module === CLI_MODULE && py.args[0] === 'serve') return parseServerArgs(py.args.slice(1), true);
  return null;
}

/**
 * What a container's `command` + `args` (as in a pod spec) tell about vLLM's OpenAI server, or null
 * when they do not run it (a Ray worker, nginx, …). Understands `vllm serve MODEL`, `python3 -m
 * vllm.entrypoints.openai.api_server --model MODEL` and either inside `sh -c` / `bash -c` scripts.
 * Without `command`, the image's entrypoint is assumed to be `vllm serve` (vllm/vllm-openai) when the
 * args carry a vLLM-only flag such as --model. Kubernetes `$(VAR)` references are not expanded; a
 * port that is not a number falls back to 8000.
 */
export function parseVllmCommand(
  command: string[] | undefined,
  args: string[] | undefined,
): VllmCommand | null {
  const argv = [...(command ?? []), ...(args ?? [])];
  if (argv.length === 0) return null;
  if (!command?.length) {
    const usesVllmFlag = argv.some((a) => VLLM_ONLY_FLAGS.has(a.split('=')[0].replace(/_/g, '-')));
    return usesVllmFlag ? parseServerArgs(argv, true) : findCommand(argv, vllmServer);
  }
  return findCommand(argv, vllmServer);
}
