// Recognises SGLang's server (`python3 -m sglang.launch_server …`) in a container's command + args and
// reads its flags the way SGLang's argparse parser does (`python/sglang/srt/server_args.py`): exact
// option strings and their aliases, `--flag=value`, unique prefixes (`--tp` for `--tp-size`; an
// ambiguous prefix such as `--pp` is an error), int values checked, `--model-path` required, no
// positional arguments. Only the options the simulator needs are known by name, with the SGLang
// options that share their prefixes (so that prefixes are resolved as SGLang would); any other
// `--flag [value]` is skipped.

import { findCommand, pythonModule } from './command-line';
import type { SglangCommand } from './types';

export const SGLANG_LAUNCH_MODULE = 'sglang.launch_server';
export const SGLANG_DEFAULT_PORT = 30000;

type Kind = 'int' | 'str' | 'human-int' | 'float' | 'bool';

interface Option {
  dest: string;
  names: string[];
  kind: Kind;
}

/** The SGLang options the simulator reads, and their neighbours by prefix. */
const OPTIONS: Option[] = [
  { dest: 'model_path', names: ['--model-path', '--model'], kind: 'str' },
  { dest: 'model_impl', names: ['--model-impl'], kind: 'str' },
  { dest: 'model_loader_extra_config', names: ['--model-loader-extra-config'], kind: 'str' },
  { dest: 'served_model_name', names: ['--served-model-name'], kind: 'str' },
  { dest: 'host', names: ['--host'], kind: 'str' },
  { dest: 'port', names: ['--port'], kind: 'int' },
  { dest: 'tp_size', names: ['--tp-size', '--tensor-parallel-size'], kind: 'int' },
  { dest: 'pp_size', names: ['--pp-size', '--pipeline-parallel-size'], kind: 'int' },
  { dest: 'pp_max_micro_batch_size', names: ['--pp-max-micro-batch-size'], kind: 'int' },
  { dest: 'pp_async_batch_depth', names: ['--pp-async-batch-depth'], kind: 'int' },
  { dest: 'dp_size', names: ['--dp-size', '--data-parallel-size'], kind: 'int' },
  { dest: 'nnodes', names: ['--nnodes'], kind: 'int' },
  { dest: 'node_rank', names: ['--node-rank'], kind: 'int' },
  { dest: 'dist_init_addr', names: ['--dist-init-addr', '--nccl-init-addr'], kind: 'str' },
  { dest: 'dist_timeout', names: ['--dist-timeout'], kind: 'int' },
  { dest: 'nccl_port', names: ['--nccl-port'], kind: 'int' },
  { dest: 'context_length', names: ['--context-length'], kind: 'human-int' },
  { dest: 'max_running_requests', names: ['--max-running-requests'], kind: 'int' },
  { dest: 'max_queued_requests', names: ['--max-queued-requests'], kind: 'int' },
  { dest: 'max_total_tokens', names: ['--max-total-tokens'], kind: 'human-int' },
  { dest: 'max_prefill_tokens', names: ['--max-prefill-tokens'], kind: 'human-int' },
  { dest: 'mem_fraction_static', names: ['--mem-fraction-static'], kind: 'float' },
  { dest: 'enable_metrics', names: ['--enable-metrics'], kind: 'bool' },
  { dest: 'enable_metrics_for_all_schedulers', names: ['--enable-metrics-for-all-schedulers'], kind: 'bool' },
  { dest: 'trust_remote_code', names: ['--trust-remote-code'], kind: 'bool' },
  { dest: 'skip_server_warmup', names: ['--skip-server-warmup'], kind: 'bool' },
];

const BY_NAME = new Map<string, Option>(OPTIONS.flatMap((o) => o.names.map((n) => [n, o] as const)));

class ArgError extends Error {}

/** argparse's lookup: the exact option string, else the only one the word is a prefix of. */
function resolve(word: string): Option | undefined {
  const exact = BY_NAME.get(word);
  if (exact) return exact;
  if (!word.startsWith('--') || word.length < 3) return undefined;
  const hits = [...BY_NAME.keys()].filter((n) => n.startsWith(word));
  if (hits.length > 1) throw new ArgError(`ambiguous option: ${word} could match ${hits.sort().join(', ')}`);
  return hits.length === 1 ? BY_NAME.get(hits[0]) : undefined;
}

/** SGLang's human_readable_int: 32768, 32k / 32K (x1000), 1m / 1M (x1e6), 1g / 1G (x1e9). */
function humanInt(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(v.trim());
  if (!m) return undefined;
  const mult = m[2] === '' ? 1 : { k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as 'k' | 'm' | 'g'];
  const x = Math.round(Number(m[1]) * mult);
  return Number.isSafeInteger(x) ? x : undefined;
}

function convert(o: Option, v: string): string | number {
  if (o.kind === 'str') return v;
  let n: number | undefined;
  if (o.kind === 'human-int') n = humanInt(v);
  else if (o.kind === 'int') n = /^\s*[-+]?\d+\s*$/.test(v) ? Number(v) : undefined;
  else n = v.trim() === '' ? undefined : Number(v);
  if (n === undefined || !Number.isFinite(n)) {
    const type = o.kind === 'float' ? 'float' : 'int';
    throw new ArgError(`argument ${o.names.join('/')}: invalid ${type} value: '${v}'`);
  }
  return n;
}

const isOptionWord = (a: string): boolean => a.startsWith('-') && !/^-\d/.test(a) && a !== '-';

/** The arguments after `sglang.launch_server` as SGLang's parser reads them (last occurrence wins). */
function parseLaunchArgs(args: string[]): SglangCommand {
  const values = new Map<string, string | number | boolean>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!isOptionWord(a)) throw new ArgError(`unrecognized arguments: ${a}`);
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const word = eq >= 0 ? a.slice(0, eq) : a;
    const o = resolve(word);
    if (!o) {
      // An option the simulator does not know: skip it and its value, if it has one.
      if (eq < 0 && i + 1 < args.length && !isOptionWord(args[i + 1])) i++;
      continue;
    }
    if (o.kind === 'bool') {
      if (eq >= 0)
        throw new ArgError(`argument ${o.names.join('/')}: ignored explicit argument '${a.slice(eq + 1)}'`);
      values.set(o.dest, true);
      continue;
    }
    let v: string;
    if (eq >= 0) v = a.slice(eq + 1);
    else if (i + 1 < args.length && !isOptionWord(args[i + 1])) v = args[++i];
    else throw new ArgError(`argument ${o.names.join('/')}: expected one argument`);
    values.set(o.dest, convert(o, v));
  }
  const str = (k: string) => values.get(k) as string | undefined;
  const int = (k: string) => values.get(k) as number | undefined;
  const model = str('model_path');
  if (model === undefined) throw new ArgError('the following arguments are required: --model-path/--model');
  const cmd: SglangCommand = {
    model,
    servedModelName: str('served_model_name') ?? model,
    host: str('host') ?? '127.0.0.1',
    port: int('port') ?? SGLANG_DEFAULT_PORT,
    tp: int('tp_size') ?? 1,
    pp: int('pp_size') ?? 1,
    nnodes: int('nnodes') ?? 1,
    nodeRank: int('node_rank') ?? 0,
    enableMetrics: values.get('enable_metrics') === true,
  };
  const dist = str('dist_init_addr');
  if (dist !== undefined) cmd.distInitAddr = dist;
  const maxRunning = int('max_running_requests');
  if (maxRunning !== undefined) cmd.maxRunningRequests = maxRunning;
  const context = int('context_length');
  if (context !== undefined) cmd.contextLength = context;
  if (cmd.nnodes < 1 || cmd.nodeRank < 0 || cmd.nodeRank >= cmd.nnodes)
    throw new ArgError(`--node-rank ${cmd.nodeRank} is not a rank of --nnodes ${cmd.nnodes}`);
  if (cmd.nnodes > 1 && cmd.distInitAddr === undefined)
    throw new ArgError('--nnodes > 1 needs --dist-init-addr: the ranks would not find each other');
  return cmd;
}

function launchServer(argv: string[]): { args: string[] } | null {
  const py = pythonModule(argv);
  return py?.module === SGLANG_LAUNCH_MODULE ? { args: py.args } : null;
}

/**
 * SGLang's server in a container's `command` + `args`, or null when they do not run it; `{error}`
 * when they run it with arguments SGLang's parser refuses (the server would exit at once). Finds
 * `python3 -m sglang.launch_server …` alone or inside `sh -c` / `bash -c` scripts. Kubernetes
 * `$(VAR)` references must be expanded first (a `--node-rank $(LWS_WORKER_INDEX)` left as is is an
 * invalid int, as it would be for SGLang).
 */
export function parseSglangCommand(
  command: string[] | undefined,
  args: string[] | undefined,
): SglangCommand | { error: string } | null {
  const argv = [...(command ?? []), ...(args ?? [])];
  if (argv.length === 0) return null;
  const found = findCommand(argv, launchServer);
  if (!found) return null;
  try {
    return parseLaunchArgs(found.args);
  } catch (e) {
    if (e instanceof ArgError) return { error: `sglang.launch_server: error: ${e.message}` };
    throw e;
  }
}
