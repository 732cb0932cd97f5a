// Quoting of user-provided values put into a container command that Kubernetes hands to `/bin/sh -c`.

/** Words that need no quoting in a POSIX shell (and contain no `$`, so Kubernetes leaves them alone). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one word for a POSIX shell: bare when made only of safe characters, otherwise in single quotes
 * (with `'` written as `'\''`), so that the shell takes it literally: no expansion, globbing or
 * word splitting, whatever it contains (newlines, `;`, `$(…)`, backquotes…).
 */
export function shellQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Escapes `$` as `$$` so that Kubernetes' own `$(VAR)` expansion of `command`/`args` leaves the text
 * as written (`$$` becomes `$`). Without it a user value `$(SECRET_ENV)` would be replaced by the
 * variable's value before the shell runs — outside the shell's quoting.
 */
export function kubeEscape(text: string): string {
  return text.replace(/\$/g, () => '$$');
}

/** One user-provided word made safe for a `sh -c` container command. */
export function commandWord(word: string): string {
  return kubeEscape(shellQuote(word));
}
