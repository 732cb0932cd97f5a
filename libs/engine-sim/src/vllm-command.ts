// Recognises vLLM's OpenAI server in a container's command + args (Kubernetes pod spec).

import type { VllmCommand } from './types';

const DEFAULT_PORT = 8000;
/** vLLM's default model when none is given. */
const DEFAULT_MODEL = 'Qwen/Qwen3-0.6B';
const API_SERVER_MODULE = 'vllm.entrypoints.openai.api_server';
const CLI_MODULE = 'vllm.entrypoints.cli.main';
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh']);
/** Words that may precede a command without being it. */
const PREFIX_WORDS = new Set([
  'exec',
  'time',
  'nohup',
  'then',
  'do',
  'else',
  'elif',
  'if',
  'while',
  'until',
  '!',
  '{',
]);
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

/**
 * Splits a POSIX shell script into simple commands (lists of words), honouring quotes, backslashes,
 * comments and the operators `;` `&` `&&` `|` `||` `(` `)` and newlines. Expansions are kept literally.
 */
export function splitShell(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = (): void => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  const n = script.length;
  let i = 0;
  while (i < n) {
    const c = script[i];
    if (c === '\\') {
      if (script[i + 1] === '\n') i += 2;
      else {
        if (i + 1 < n) word += script[i + 1];
        inWord = true;
        i += 2;
      }
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      word += script.slice(i + 1, end < 0 ? n : end);
      inWord = true;
      i = end < 0 ? n : end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      while (i < n && script[i] !== '"') {
        if (script[i] === '\\' && i + 1 < n && '"\\$`\n'.includes(script[i + 1])) {
          if (script[i + 1] !== '\n') word += script[i + 1];
          i += 2;
        } else word += script[i++];
      }
      i++;
    } else if (c === '$' && (script[i + 1] === '(' || script[i + 1] === '{')) {
      // $(...) / ${...}: keep literally, with nesting.
      const open = script[i + 1];
      const close = open === '(' ? ')' : '}';
      let depth = 0;
      let j = i + 1;
      for (; j < n; j++) {
        if (script[j] === open) depth++;
        else if (script[j] === close && --depth === 0) break;
      }
      word += script.slice(i, j + 1);
      inWord = true;
      i = j + 1;
    } else if (c === '#' && !inWord) {
      while (i < n && script[i] !== '\n') i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
    } else if (c === '\n' || c === ';' || c === '&' || c === '|' || c === '(' || c === ')') {
      endCommand();
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  endCommand();
  return commands;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Drops env assignments, `env …`, `exec`, `nohup` and similar wrappers before the program. */
function stripWrappers(argv: string[]): string[] {
  let i = 0;
  for (;;) {
    const a = argv[i];
    if (a === undefined) return [];
    if (PREFIX_WORDS.has(a) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) i++;
    else if (basename(a) === 'env') {
      i++;
      while (i < argv.length && (argv[i].startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[i]))) i++;
    } else if (basename(a) === 'uv' && argv[i + 1] === 'run') {
      i += 2;
      while (i < argv.length && argv[i].startsWith('-')) i++;
    } else return argv.slice(i);
  }
}

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

/** The vLLM server run by one argv (a simple command), or null. */
function fromArgv(argvIn: string[], depth: number): VllmCommand | null {
  const argv = stripWrappers(argvIn);
  if (argv.length === 0) return null;
  const prog = basename(argv[0]);
  if (SHELLS.has(prog)) {
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i];
      if (!a.startsWith('-') || a === '--' || a === '-') break;
      // -c, -ec, -lc, -euxc ... (not long options such as --login)
      if (!a.startsWith('--') && a.includes('c')) {
        const script = argv[i + 1];
        return script === undefined || depth > 4 ? null : fromScript(script, depth + 1);
      }
    }
    return null;
  }
  if (prog === 'vllm' && argv[1] === 'serve') return parseServerArgs(argv.slice(2), true);
  if (/^python[0-9.]*$/.test(prog)) {
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i];
      let mod: string | undefined;
      let rest = i + 2;
      if (a === '-m') mod = argv[i + 1];
      else if (a.startsWith('-m') && !a.startsWith('--')) {
        mod = a.slice(2);
        rest = i + 1;
      } else if (a.startsWith('-')) continue;
      else return null; // python script.py …
      if (mod === API_SERVER_MODULE) return parseServerArgs(argv.slice(rest), false);
      if (mod === CLI_MODULE && argv[rest] === 'serve') return parseServerArgs(argv.slice(rest + 1), true);
      return null;
    }
  }
  return null;
}

function fromScript(script: string, depth: number): VllmCommand | null {
  for (const argv of splitShell(script)) {
    const cmd = fromArgv(argv, depth);
    if (cmd) return cmd;
  }
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
    return usesVllmFlag ? parseServerArgs(argv, true) : fromArgv(argv, 0);
  }
  return fromArgv(argv, 0);
}
