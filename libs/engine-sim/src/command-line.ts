// Reading a container's command line the way a shell and a kubelet would: `sh -c` scripts split into
// simple commands, wrappers (`exec`, `env`, assignments, `uv run`) dropped, `python -m module`
// recognised. Shared by the engines' command parsers (vllm-command.ts, sglang-command.ts).

export const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh']);
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

export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Drops env assignments, `env …`, `exec`, `nohup` and similar wrappers before the program. */
export function stripWrappers(argv: string[]): string[] {
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

/**
 * The first simple command for which `match` returns a value, looking into `sh -c` / `bash -c` scripts
 * (nested up to a few levels); `match` gets the command without its wrappers.
 */
export function findCommand<T>(argv: string[], match: (argv: string[]) => T | null, depth = 0): T | null {
  const stripped = stripWrappers(argv);
  if (stripped.length === 0) return null;
  if (SHELLS.has(basename(stripped[0]))) {
    for (let i = 1; i < stripped.length; i++) {
      const a = stripped[i];
      if (!a.startsWith('-') || a === '--' || a === '-') break;
      // -c, -ec, -lc, -euxc ... (not long options such as --login)
      if (!a.startsWith('--') && a.includes('c')) {
        const script = stripped[i + 1];
        if (script === undefined || depth > 4) return null;
        for (const inner of splitShell(script)) {
          const found = findCommand(inner, match, depth + 1);
          if (found !== null) return found;
        }
        return null;
      }
    }
    return null;
  }
  return match(stripped);
}

/** `python3 -m MODULE ARGS…` (also `-mMODULE`, interpreter options before it): MODULE and ARGS. */
export function pythonModule(argv: string[]): { module: string; args: string[] } | null {
  if (argv.length === 0 || !/^python[0-9.]*$/.test(basename(argv[0]))) return null;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-m')
      return argv[i + 1] === undefined ? null : { module: argv[i + 1], args: argv.slice(i + 2) };
    if (a.startsWith('-m') && !a.startsWith('--')) return { module: a.slice(2), args: argv.slice(i + 1) };
    if (!a.startsWith('-')) return null; // python script.py …
  }
  return null;
}
