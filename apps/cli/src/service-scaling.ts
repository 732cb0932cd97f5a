import { Command, InvalidArgumentError } from 'commander';
import { ScalingView, ServiceView } from './api-client';
import { nonNegativeInt, positiveInt } from './args';
import { CliError } from './output';
import type { ServiceCommandDeps } from './services';

/** `troupe services scale|autoscaling`: who sets the number of groups (admin pin or autoscaler). */

export interface AutoscalingOptions {
  enable?: boolean;
  disable?: boolean;
  min?: number;
  max?: number;
  metric?: string;
  target?: number;
  stableWindow?: number;
  panicWindow?: number;
  panicThreshold?: number;
  scaleUpStabilization?: number;
  scaleDownStabilization?: number;
  maxScaleUpStep?: number;
  maxScaleDownStep?: number;
  scaleDownStep?: number;
  scaleToZero?: boolean;
  idle?: number;
}

const METRICS = ['concurrency', 'waiting', 'kvCache'];

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a number > 0');
  return n;
}

export function metricName(value: string): string {
  if (!METRICS.includes(value)) throw new InvalidArgumentError(`expected one of ${METRICS.join(', ')}`);
  return value;
}

/**
 * The PUT body from the flags: only what was given (the server merges it over the stored policy, or
 * the defaults). `undefined` when no flag was given: the command then shows the current scaling.
 */
export function autoscalingBody(o: AutoscalingOptions): Record<string, unknown> | undefined {
  if (o.enable && o.disable) throw new CliError('--enable and --disable exclude each other');
  const body: Record<string, unknown> = {};
  if (o.enable) body.enabled = true;
  if (o.disable) body.enabled = false;
  const fields: [keyof AutoscalingOptions, string][] = [
    ['min', 'minReplicas'],
    ['max', 'maxReplicas'],
    ['metric', 'metric'],
    ['target', 'target'],
    ['stableWindow', 'stableWindowSeconds'],
    ['panicWindow', 'panicWindowSeconds'],
    ['panicThreshold', 'panicThreshold'],
    ['scaleUpStabilization', 'scaleUpStabilizationSeconds'],
    ['scaleDownStabilization', 'scaleDownStabilizationSeconds'],
    ['maxScaleUpStep', 'maxScaleUpStep'],
    ['maxScaleDownStep', 'maxScaleDownStep'],
    ['scaleDownStep', 'scaleDownStepSeconds'],
  ];
  for (const [flag, field] of fields) if (o[flag] !== undefined) body[field] = o[flag];
  if (o.scaleToZero !== undefined || o.idle !== undefined) {
    body.scaleToZero = {
      ...(o.scaleToZero !== undefined ? { enabled: o.scaleToZero } : {}),
      ...(o.idle !== undefined ? { idleSeconds: o.idle } : {}),
    };
  }
  return Object.keys(body).length > 0 ? body : undefined;
}

/** Human rendering of `scaling` (GET /services/{name}). */
export function showScaling(name: string, s: ScalingView | undefined): string {
  if (!s) return `service ${name}: scaling not reported by this server`;
  const lines = [`service ${name}: groups set by ${ownerText(s)}`];
  const p = s.policy;
  if (p) {
    lines.push(
      `  policy (${p.enabled ? 'on' : 'off'}): ${p.minReplicas}..${p.maxReplicas} groups, ${p.metric} target ${p.target} per group`,
      `    windows: stable ${p.stableWindowSeconds} s, panic ${p.panicWindowSeconds} s at ${p.panicThreshold}x; ` +
        `scale-up after ${p.scaleUpStabilizationSeconds} s, scale-down after ${p.scaleDownStabilizationSeconds} s` +
        (p.maxScaleDownStep !== undefined
          ? `, -${p.maxScaleDownStep} per ${p.scaleDownStepSeconds ?? 0} s`
          : '') +
        `; +${p.maxScaleUpStep} per step at most`,
      `    scale to zero: ${p.scaleToZero?.enabled ? `after ${p.scaleToZero.idleSeconds} s idle` : 'no'}`,
    );
  } else lines.push('  policy: none');
  const d = s.lastDecision;
  if (d) {
    const change = d.desired === d.current ? `stays at ${d.current}` : `${d.current} -> ${d.desired}`;
    lines.push(`  last decision (${d.at}): ${d.reason}, ${change} groups`, `    ${d.message}`);
  }
  return lines.join('\n');
}

function ownerText(s: ScalingView): string {
  switch (s.owner) {
    case 'admin':
      return `an admin (pinned at ${s.pinnedReplicas}; autoscaling paused)`;
    case 'autoscaler':
      return 'the autoscaler';
    default:
      return 'the spec (replicas.initial)';
  }
}

export function registerScalingCommands(services: Command, deps: ServiceCommandDeps): void {
  const { output, withClient } = deps;

  services
    .command('scale <name> <replicas>')
    .description(
      'pin a service at this many groups (pauses autoscaling until `services autoscaling --enable`)',
    )
    .action(async (name: string, replicasArg: string, _opts: unknown, cmd: Command) => {
      const out = output(cmd);
      let replicas: number;
      try {
        replicas = nonNegativeInt(replicasArg);
      } catch (err) {
        throw new CliError(`replicas: ${(err as Error).message}`);
      }
      const s = await withClient(cmd, (c) => c.scaleService(name, replicas));
      out.result(
        s,
        () => `pinned ${name} at ${replicas} group(s)\n${showScaling(name, s.scaling as ScalingView)}`,
      );
    });

  services
    .command('autoscaling <name>')
    .description('show or set the autoscaling policy (flags are merged over the current policy)')
    .option('--enable', 'turn autoscaling on (also resumes it after `services scale`)')
    .option('--disable', 'turn autoscaling off: the spec sets the groups again')
    .option('--min <n>', 'fewest groups (0 needs --scale-to-zero)', nonNegativeInt)
    .option('--max <n>', 'most groups', positiveInt)
    .option('--metric <metric>', `load measure: ${METRICS.join(', ')}`, metricName)
    .option(
      '--target <x>',
      'load per group: requests (concurrency, waiting) or 0..1 (kvCache)',
      positiveNumber,
    )
    .option('--stable-window <s>', 'seconds of load averaged for steady decisions', positiveInt)
    .option('--panic-window <s>', 'seconds watched for bursts', positiveInt)
    .option('--panic-threshold <x>', 'panic at this many times the ready groups (e.g. 2)', positiveNumber)
    .option(
      '--scale-up-stabilization <s>',
      'scale up only to the lowest recommendation over this long',
      nonNegativeInt,
    )
    .option(
      '--scale-down-stabilization <s>',
      'scale down only to the highest recommendation over this long',
      nonNegativeInt,
    )
    .option('--max-scale-up-step <n>', 'groups added per decision at most', positiveInt)
    .option('--max-scale-down-step <n>', 'groups removed per decision at most', positiveInt)
    .option('--scale-down-step <s>', 'least seconds between two scale-downs', nonNegativeInt)
    .option('--scale-to-zero', 'go to zero groups when idle (with --min 0)')
    .option('--no-scale-to-zero', 'never go to zero groups')
    .option('--idle <s>', 'seconds without a request before scaling to zero', positiveInt)
    .addHelpText(
      'after',
      '\nWithout flags, shows who sets the groups, the policy and the last decision. Examples:\n' +
        '  troupe services autoscaling llama --enable --min 1 --max 4 --metric concurrency --target 16\n' +
        '  troupe services autoscaling llama --min 0 --scale-to-zero --idle 600\n' +
        '  troupe services autoscaling llama --disable',
    )
    .action(async (name: string, opts: AutoscalingOptions, cmd: Command) => {
      const out = output(cmd);
      const body = autoscalingBody(opts);
      const s: ServiceView = await withClient(cmd, (c) =>
        body === undefined ? c.getService(name) : c.setAutoscaling(name, body),
      );
      out.result(body === undefined ? (s.scaling ?? null) : s, () =>
        showScaling(name, s.scaling as ScalingView),
      );
    });
}
