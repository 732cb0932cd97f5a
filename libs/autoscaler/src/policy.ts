import { z } from 'zod';
import type { AutoscalingPolicy, ScalingMetric } from './types';

/** Target per group when a policy names a metric but no target. */
export const DEFAULT_TARGETS: Readonly<Record<ScalingMetric, number>> = Object.freeze({
  concurrency: 16,
  waiting: 4,
  kvCache: 0.8,
});

/**
 * Defaults, chosen for groups that are expensive and slow to start: react to bursts within seconds
 * (panic window), but give groups back only after five quiet minutes and one at a time.
 */
export const DEFAULT_AUTOSCALING_POLICY: AutoscalingPolicy = Object.freeze({
  enabled: true,
  minReplicas: 1,
  maxReplicas: 4,
  metric: 'concurrency',
  target: DEFAULT_TARGETS.concurrency,
  stableWindowSeconds: 60,
  panicWindowSeconds: 6,
  panicThreshold: 2,
  scaleUpStabilizationSeconds: 0,
  scaleDownStabilizationSeconds: 300,
  maxScaleUpStep: 4,
  maxScaleDownStep: 1,
  scaleDownStepSeconds: 30,
  scaleToZero: Object.freeze({ enabled: false, idleSeconds: 600 }),
}) as AutoscalingPolicy;

/** Meaning of each field, for API docs and the README. */
export const AUTOSCALING_POLICY_DOCS: Readonly<Record<string, string>> = Object.freeze({
  enabled: 'Whether the autoscaler manages the number of groups.',
  minReplicas: 'Fewest groups (0 only with scaleToZero.enabled).',
  maxReplicas: 'Most groups.',
  metric:
    'Load measure: concurrency (running + waiting requests per group), waiting (queued per group) or kvCache (mean KV-cache use).',
  target: 'Load one group should carry: requests (concurrency, waiting) or a fraction 0..1 (kvCache).',
  stableWindowSeconds: 'Window whose average load decides the steady number of groups.',
  panicWindowSeconds: 'Short window watched for bursts (at most the stable window).',
  panicThreshold: 'Panic when the panic window asks for this many times the ready groups (2 = 200%).',
  scaleUpStabilizationSeconds: 'Scale up only to the lowest recommendation over this long (0 = at once).',
  scaleDownStabilizationSeconds: 'Scale down only to the highest recommendation over this long.',
  maxScaleUpStep: 'Groups added per decision at most.',
  maxScaleDownStep: 'Groups removed per decision at most.',
  scaleDownStepSeconds: 'Least time between two scale-downs.',
  'scaleToZero.enabled': 'Go to zero groups when idle (needs minReplicas 0).',
  'scaleToZero.idleSeconds': 'Seconds without any request before scaling to zero.',
});

const MAX_GROUPS = 1000;
const MAX_SECONDS = 86_400;

const int = (field: string, min: number, max: number) =>
  z
    .number({ error: `${field} must be a number` })
    .int({ error: `${field} must be a whole number` })
    .min(min, { error: `${field} must be at least ${min}` })
    .max(max, { error: `${field} must be at most ${max}` });

const positive = (field: string, max: number) =>
  z
    .number({ error: `${field} must be a number` })
    .positive({ error: `${field} must be greater than 0` })
    .max(max, { error: `${field} must be at most ${max}` });

/**
 * A policy as a client sends it: every field optional (missing ones keep the previous policy's value,
 * or the default), unknown fields rejected. Cross-field rules are checked by `resolvePolicy` on the
 * merged result.
 */
export const autoscalingPolicyInputSchema = z.strictObject(
  {
    enabled: z.boolean({ error: 'enabled must be true or false' }).optional(),
    minReplicas: int('minReplicas', 0, MAX_GROUPS).optional(),
    maxReplicas: int('maxReplicas', 1, MAX_GROUPS).optional(),
    metric: z
      .enum(['concurrency', 'waiting', 'kvCache'], {
        error: 'metric must be one of concurrency, waiting, kvCache',
      })
      .optional(),
    target: positive('target', 100_000).optional(),
    stableWindowSeconds: int('stableWindowSeconds', 6, 3600).optional(),
    panicWindowSeconds: int('panicWindowSeconds', 1, 3600).optional(),
    panicThreshold: z
      .number({ error: 'panicThreshold must be a number' })
      .min(1.1, { error: 'panicThreshold must be at least 1.1 (110% of the ready groups)' })
      .max(100, { error: 'panicThreshold must be at most 100' })
      .optional(),
    scaleUpStabilizationSeconds: int('scaleUpStabilizationSeconds', 0, 3600).optional(),
    scaleDownStabilizationSeconds: int('scaleDownStabilizationSeconds', 0, 3600).optional(),
    maxScaleUpStep: int('maxScaleUpStep', 1, MAX_GROUPS).optional(),
    maxScaleDownStep: int('maxScaleDownStep', 1, MAX_GROUPS).optional(),
    scaleDownStepSeconds: int('scaleDownStepSeconds', 0, 3600).optional(),
    scaleToZero: z
      .strictObject(
        {
          enabled: z.boolean({ error: 'scaleToZero.enabled must be true or false' }).optional(),
          idleSeconds: int('scaleToZero.idleSeconds', 1, MAX_SECONDS).optional(),
        },
        { error: 'scaleToZero must be an object' },
      )
      .optional(),
  },
  { error: 'the autoscaling policy must be a JSON object' },
);

export type AutoscalingPolicyInput = z.input<typeof autoscalingPolicyInputSchema>;

export interface PolicyIssue {
  field: string;
  message: string;
}

export type ResolvedPolicy = { policy: AutoscalingPolicy } | { issues: PolicyIssue[] };

/**
 * Validates a (partial) policy and merges it over `previous` (or the defaults). A changed metric
 * without a target takes that metric's default target, since a target of 16 requests means nothing
 * as a KV-cache fraction. Returns every problem at once, each naming its field.
 */
export function resolvePolicy(input: unknown, previous?: AutoscalingPolicy): ResolvedPolicy {
  const parsed = autoscalingPolicyInputSchema.safeParse(input ?? {});
  if (!parsed.success) {
    return { issues: parsed.error.issues.flatMap(toPolicyIssues) };
  }
  const base = previous ?? DEFAULT_AUTOSCALING_POLICY;
  const patch = parsed.data;
  const metric = patch.metric ?? base.metric;
  const target = patch.target ?? (metric === base.metric ? base.target : DEFAULT_TARGETS[metric]);
  const policy: AutoscalingPolicy = {
    ...base,
    ...stripUndefined(patch),
    metric,
    target,
    scaleToZero: { ...base.scaleToZero, ...stripUndefined(patch.scaleToZero ?? {}) },
  };
  const issues = crossFieldIssues(policy);
  return issues.length > 0 ? { issues } : { policy };
}

function crossFieldIssues(p: AutoscalingPolicy): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  if (p.minReplicas > p.maxReplicas) {
    issues.push({
      field: 'minReplicas',
      message: `minReplicas (${p.minReplicas}) is above maxReplicas (${p.maxReplicas})`,
    });
  }
  if (p.metric === 'kvCache' && p.target > 1) {
    issues.push({
      field: 'target',
      message: `target for metric kvCache is a fraction of the KV cache, 0 < target <= 1 (got ${p.target})`,
    });
  }
  if (p.panicWindowSeconds > p.stableWindowSeconds) {
    issues.push({
      field: 'panicWindowSeconds',
      message: `panicWindowSeconds (${p.panicWindowSeconds}) must not exceed stableWindowSeconds (${p.stableWindowSeconds})`,
    });
  }
  if (p.minReplicas === 0 && !p.scaleToZero.enabled) {
    issues.push({
      field: 'minReplicas',
      message: 'minReplicas 0 needs scaleToZero.enabled true (or set minReplicas to 1 or more)',
    });
  }
  if (p.scaleToZero.enabled && p.minReplicas > 0) {
    issues.push({
      field: 'scaleToZero.enabled',
      message: `scaleToZero needs minReplicas 0 (minReplicas is ${p.minReplicas})`,
    });
  }
  return issues;
}

function toPolicyIssues(issue: z.core.$ZodIssue): PolicyIssue[] {
  const at = (path: PropertyKey[]) => (path.length > 0 ? path.map(String).join('.') : 'autoscaling');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ field: at([...issue.path, key]), message: `unknown field ${key}` }));
  }
  return [{ field: at(issue.path), message: issue.message }];
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
