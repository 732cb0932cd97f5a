import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandWord, kubeEscape, shellQuote } from './shell';
import { NASTY, kubeExpand } from './test-helpers';

const SH = '/bin/sh';

describe('shellQuote', () => {
  it('leaves safe words bare and quotes the rest', () => {
    expect(shellQuote('--max-model-len')).toBe('--max-model-len');
    expect(shellQuote('/models/llama/v1')).toBe('/models/llama/v1');
    expect(shellQuote('a=b,c:d@e%f+g')).toBe('a=b,c:d@e%f+g');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$x')).toBe("'$x'");
  });

  it('escapes $ for Kubernetes', () => {
    expect(kubeEscape('$(A) $$ $b')).toBe('$$(A) $$$$ $$b');
    expect(kubeExpand(kubeEscape('$(A) $$ $b'), { A: 'x' })).toBe('$(A) $$ $b');
  });

  it.skipIf(!existsSync(SH))('every word reaches the program unchanged through Kubernetes and sh -c', () => {
    // Kubernetes expands $(SECRET) before the shell runs: the escaping must stop it.
    const env = { SECRET: "x'; echo pwned; '" };
    const script = `printf '%s\\0' ${NASTY.map(commandWord).join(' ')}`;
    const out = execFileSync(SH, ['-c', kubeExpand(script, env)], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(out.split('\0').slice(0, -1)).toEqual(NASTY);
  });
});
