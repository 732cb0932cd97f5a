// The check that users' extra engine arguments leave alone what the platform owns. Pure. The flags
// come from the engine's descriptor (engines/*.ts).

import type { FieldIssue } from '@troupe/common';
import { engineDescriptor, type EngineKind, type OwnedFlag } from './engines';

/** vLLM's owned flags, under the name they had before engines could be chosen. */
export { VLLM_OWNED_FLAGS as PLATFORM_OWNED_FLAGS } from './engines/vllm';

const isFlag = (a: string): boolean => a.startsWith('-') && a !== '-' && !/^-\d/.test(a);

export interface ExtraArgsOptions {
  /** Whose command line the arguments extend (default vLLM). */
  engine?: EngineKind;
  /** More flags to refuse (e.g. `--load-format` when the platform streams weights). */
  extraOwnedFlags?: readonly OwnedFlag[];
  /** Field prefix of the issues (default `engine.extraArgs`). */
  field?: string;
}

/**
 * Issues for extra engine arguments that set what the platform owns (for vLLM: parallelism, port,
 * host, served model name, model, executor backend, config file; for SGLang also the node count, rank
 * and rendezvous address), in `--flag value`, `--flag=value`, underscore (`--tensor_parallel_size`)
 * and unambiguous-prefix (`--tensor-parallel`, SGLang's `--tp`) forms, `-tp 4`, `-tp=4`, `-tp4`, and
 * for positional arguments (a model path). An empty list means the arguments are fine.
 */
export function validateExtraArgs(args: readonly string[], options: ExtraArgsOptions = {}): FieldIssue[] {
  const field = options.field ?? 'engine.extraArgs';
  const engine = engineDescriptor(options.engine);
  const owned = [...engine.ownedFlags, ...(options.extraOwnedFlags ?? [])];
  const takesValue = (flag: string): boolean =>
    !(
      engine.booleanFlags.has(flag) ||
      flag.startsWith('--enable-') ||
      flag.startsWith('--disable-') ||
      flag.startsWith('--no-')
    );
  const issues: FieldIssue[] = [];
  if (!Array.isArray(args)) return [{ field, message: 'must be a list of strings' }];
  args.forEach((a, i) => {
    if (typeof a !== 'string') issues.push({ field: `${field}[${i}]`, message: 'must be a string' });
    else if (a.includes('\0'))
      issues.push({ field: `${field}[${i}]`, message: 'may not contain NUL characters' });
  });
  if (issues.length) return issues;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const at = `${field}[${i}]`;
    if (a === '--') {
      if (i + 1 < args.length) {
        issues.push({
          field: `${field}[${i + 1}]`,
          message: 'positional arguments (a model path) are not allowed: the platform passes the model',
        });
      }
      break;
    }
    if (!isFlag(a)) {
      issues.push({
        field: at,
        message: `"${a}" is a positional argument (a model path?); the platform passes the model, and every extra argument must follow a --flag`,
      });
      continue;
    }
    const eq = a.indexOf('=');
    const raw = eq >= 0 ? a.slice(0, eq) : a;
    const name = raw.startsWith('--') ? `--${raw.slice(2).replace(/_/g, '-')}` : raw;
    const hit = owned.find((o) =>
      o.names.some((n) =>
        n.startsWith('--')
          ? name === n || (name.length >= 4 && n.startsWith(name)) // argparse accepts unique prefixes
          : name === n || (name.startsWith(n) && /^\d+$/.test(name.slice(n.length))),
      ),
    );
    if (hit) {
      issues.push({ field: at, message: `${raw} is set by the platform: ${hit.why}` });
      // Skip its value so that it is not reported as a positional argument too.
      if (eq < 0 && i + 1 < args.length && !isFlag(args[i + 1])) i++;
      continue;
    }
    if (eq < 0 && takesValue(name)) {
      // --served-model-name style lists are owned above; any other flag takes at most one value.
      if (i + 1 < args.length && !isFlag(args[i + 1])) i++;
    }
  }
  return issues;
}
