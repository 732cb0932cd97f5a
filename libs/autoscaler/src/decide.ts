import type {
  AutoscalerMemory,
  AutoscalingPolicy,
  Decision,
  DecisionInputs,
  DecisionReason,
  ScaleState,
  ScalingMetric,
  SignalSample,
} from './types';

/** A sample older than this (or than the panic window, if longer) is not a current view of the load. */
export const STALE_AFTER_MS = 10_000;

/** What one sample says, reduced to the policy's metric. */
export interface SampleLoad {
  at: number;
  /** Total load in the metric's unit, summed over the groups seen (+ held requests). A lower bound when `missing` > 0. */
  total: number;
  /** Requests held by the gateway (0 when unreadable). */
  held: number;
  /** Groups without metrics, +1 when the gateway's counts could not be read. */
  missing: number;
  missingGroups: number;
  gatewayUnreadable: boolean;
  /** Every signal seen and no request anywhere. */
  idle: boolean;
}

export function sampleLoad(metric: ScalingMetric, s: SignalSample): SampleLoad {
  const visible = s.groups.filter((g): g is NonNullable<typeof g> => g !== null);
  const missingGroups = s.groups.length - visible.length + Math.max(0, s.readyGroups - s.groups.length);
  const gatewayUnreadable = s.gatewayInflight < 0 || s.gatewayHeld < 0;
  // Each count is used when it was read, even if the other was not (a wake signal may say "held"
  // while the load hash could not be read).
  const held = Math.max(0, s.gatewayHeld);
  const inflight = Math.max(0, s.gatewayInflight);
  const requests = sum(visible.map((g) => g.running + g.waiting));
  let total: number;
  switch (metric) {
    case 'concurrency':
      // Requests the gateway is proxying are also running or waiting in a group; take the larger
      // count so that a group whose scrape failed is still partly seen through the gateway.
      total = Math.max(requests, inflight) + held;
      break;
    case 'waiting':
      total = sum(visible.map((g) => g.waiting)) + held;
      break;
    case 'kvCache':
      // Held requests have no KV-cache share yet; they wake a service at zero (see decide).
      total = sum(visible.map((g) => g.kvCacheUsage));
      break;
  }
  const missing = missingGroups + (gatewayUnreadable ? 1 : 0);
  return {
    at: s.at,
    total,
    held,
    missing,
    missingGroups,
    gatewayUnreadable,
    idle: missing === 0 && requests === 0 && inflight === 0 && held === 0,
  };
}

/**
 * Decides how many groups a service should have, in the spirit of Knative's KPA:
 * - the stable window's average load / target gives the steady number of groups;
 * - the panic window's average, when it asks for `panicThreshold` × the ready groups or more, scales
 *   up at once and forbids scale-down for at least a stable window after the burst was last seen;
 * - scale-up goes to the lowest recommendation over `scaleUpStabilizationSeconds`, scale-down to the
 *   highest over `scaleDownStabilizationSeconds`, by at most `maxScaleDownStep` groups per
 *   `scaleDownStepSeconds`;
 * - missing metrics are not zero load: hold (a visible burst may still scale up);
 * - pending groups the cluster cannot place count as asked for: no scale-up while any exist;
 * - zero groups after `scaleToZero.idleSeconds` without requests; held requests wake it at once.
 *
 * `history`: the samples of the last max(stable, panic) window, oldest first. Pure: no I/O, no clock.
 */
export function decide(
  policy: AutoscalingPolicy,
  history: SignalSample[],
  state: ScaleState,
  memory: AutoscalerMemory,
  now: number,
): { decision: Decision; memory: AutoscalerMemory } {
  const { metric, target } = policy;
  const cur = state.current;
  const maxR = policy.maxReplicas;
  const floor = Math.max(policy.minReplicas, 1);

  const inWindow = (seconds: number) =>
    history.filter((s) => s.at > now - seconds * 1000 && s.at <= now).map((s) => sampleLoad(metric, s));
  const stable = inWindow(policy.stableWindowSeconds);
  const newestSample = history.length > 0 ? history[history.length - 1] : undefined;
  const staleAfter = Math.max(STALE_AFTER_MS, policy.panicWindowSeconds * 1000);
  const fresh = newestSample !== undefined && newestSample.at <= now && now - newestSample.at <= staleAfter;
  const newest = fresh ? sampleLoad(metric, newestSample) : undefined;
  let panicSamples = inWindow(policy.panicWindowSeconds);
  if (panicSamples.length === 0 && newest) panicSamples = [newest];

  const stableValue = stable.length > 0 ? mean(stable.map((l) => l.total)) : null;
  const panicValue = panicSamples.length > 0 ? mean(panicSamples.map((l) => l.total)) : null;
  const stableDesired = stableValue === null ? null : groupsFor(stableValue, target);
  const panicDesired = panicValue === null ? null : groupsFor(panicValue, target);

  const inputs: DecisionInputs = {
    metric,
    stableValue,
    panicValue,
    target,
    current: cur,
    ready: state.ready,
    pending: state.pending,
    unschedulable: state.unschedulable,
    missing: newest ? newest.missing : state.ready + 1,
  };

  // Continuous observation: a gap in decisions longer than the stable window (worker down, service
  // just enabled: the history is all new) starts it over. Shorter gaps are slow ticks, not a restart.
  const lastDecisionAt = memory.recommendations.at(-1)?.at;
  const gapMs = Math.max(staleAfter, policy.stableWindowSeconds * 1000);
  const observedSince =
    memory.observedSince == null || lastDecisionAt === undefined || now - lastDecisionAt > gapMs
      ? now
      : memory.observedSince;

  // Idle tracking: a sample with any request, or with something unseen, counts as activity.
  let lastActiveAt = memory.lastActiveAt ?? now;
  if (!newest) lastActiveAt = now;
  for (const l of stable) if (!l.idle) lastActiveAt = Math.max(lastActiveAt, l.at);

  // Panic: a burst in the short window, measured against the ready groups (at least one, so that a
  // burst while the first group starts counts too). Never at zero groups: waking handles that.
  const capacity = Math.max(state.ready, 1);
  // Compared as load, not as rounded-up groups: with one group at target 16, 17 requests are not a
  // burst of "2 groups = 200%".
  const panicTriggered =
    cur > 0 && panicValue !== null && panicValue >= policy.panicThreshold * capacity * target - 1e-9;
  let panicUntil: number | null =
    memory.panicUntil !== null && memory.panicUntil > now ? memory.panicUntil : null;
  if (panicTriggered) panicUntil = Math.max(panicUntil ?? 0, now + policy.stableWindowSeconds * 1000);
  const inPanic = panicUntil !== null;

  const txt = new Wording(policy, state);

  const finish = (desired: number, reason: DecisionReason, message: string, recommendation: number) => {
    const keepMs = Math.max(policy.scaleUpStabilizationSeconds, policy.scaleDownStabilizationSeconds) * 1000;
    const recommendations = [
      ...memory.recommendations.filter((r) => r.at > now - keepMs && r.at < now),
      { at: now, desired: recommendation },
    ];
    return {
      decision: { desired, reason, message, panic: inPanic, inputs },
      memory: {
        panicUntil,
        recommendations,
        lastActiveAt,
        lastScaleAt: desired !== cur ? now : memory.lastScaleAt,
        observedSince,
      },
    };
  };

  /** Scale up towards `want` groups, at most `maxScaleUpStep` at once, never past the cluster's capacity. */
  const scaleUp = (want: number, why: string, panic: boolean, recommendation: number) => {
    const bounded = Math.min(want, maxR);
    const desired = Math.min(bounded, cur + policy.maxScaleUpStep);
    if (state.unschedulable > 0) {
      return finish(
        cur,
        'hold-capacity',
        `${why}, but the cluster could not place ${plural(state.unschedulable, 'pending group')}: ` +
          `holding at ${plural(cur, 'group')} rather than asking for more it cannot place.`,
        recommendation,
      );
    }
    const limits: string[] = [];
    if (want > maxR) limits.push(`maxReplicas is ${maxR}`);
    if (desired < bounded) limits.push(`at most ${policy.maxScaleUpStep} added per step`);
    return finish(
      desired,
      panic ? 'panic-scale-up' : 'scale-up',
      `${why}: scaling up from ${cur} to ${desired}${panic ? ' at once' : ''}` +
        (limits.length > 0 ? ` (${limits.join('; ')})` : '') +
        '.',
      recommendation,
    );
  };

  // Zero groups: only held (or in-flight) requests matter; they wake the service at once.
  if (cur === 0 && policy.minReplicas === 0) {
    // Any request seen recently wakes the service, even when part of the signal is missing.
    const load = Math.max(...panicSamples.map((l) => l.total), 0);
    const held = Math.max(...panicSamples.map((l) => l.held), 0);
    if (held > 0 || load > 0) {
      lastActiveAt = now;
      const need = metric === 'kvCache' ? 1 : Math.max(1, groupsFor(load, target));
      const desired = Math.min(need, policy.maxScaleUpStep, maxR);
      return finish(
        desired,
        'wake-from-zero',
        `${plural(held, 'request')} held at 0 groups: starting ${plural(desired, 'group')} at once.`,
        desired,
      );
    }
    if (!newest || newest.gatewayUnreadable) {
      return finish(
        0,
        'hold-missing-metrics',
        `At 0 groups and the gateway's held requests could not be read${newest ? '' : ' (no recent sample)'}: ` +
          'staying at zero until they can be seen.',
        0,
      );
    }
    return finish(0, 'within-target', 'At 0 groups and no request is waiting.', 0);
  }

  // The policy's bounds changed under the service.
  if (cur > maxR) {
    return finish(
      maxR,
      'clamped-to-bounds',
      `${plural(cur, 'group')} is above maxReplicas ${maxR}: scaling down to ${maxR}.`,
      maxR,
    );
  }
  if (cur < floor) {
    if (state.unschedulable > 0) {
      return scaleUp(floor, `${plural(cur, 'group')} is below minReplicas ${floor}`, false, floor);
    }
    return finish(
      floor,
      'clamped-to-bounds',
      `${plural(cur, 'group')} is below minReplicas ${floor}: scaling up to ${floor}.`,
      floor,
    );
  }

  if (!newest || stableDesired === null) {
    return finish(
      cur,
      'hold-missing-metrics',
      `No load sample from the last ${Math.round(staleAfter / 1000)} s: holding at ${plural(cur, 'group')} ` +
        'rather than reading the gap as no load.',
      cur,
    );
  }

  const raw = inPanic ? Math.max(stableDesired, panicDesired ?? 0) : stableDesired;

  // Something could not be seen now: hold, unless what can be seen is already a burst.
  if (newest.missing > 0) {
    const unseen = txt.unseen(newest);
    if (panicTriggered && panicDesired! > cur) {
      return scaleUp(
        panicDesired!,
        `${unseen} could not be seen, yet what can be seen is ${txt.burst(panicValue!)}`,
        true,
        Math.max(cur, raw),
      );
    }
    return finish(
      cur,
      'hold-missing-metrics',
      `${unseen} could not be seen (scrape failed or stale); the load that can be seen asks for ` +
        `${plural(raw, 'group')}: holding at ${cur} rather than reading the gap as no load.`,
      Math.max(cur, raw),
    );
  }

  if (inPanic) {
    const recommendation = Math.max(cur, raw);
    if (Math.min(raw, maxR) > cur) {
      const why = panicTriggered
        ? cap(txt.burst(panicValue!))
        : `In panic mode (until ${txt.seconds(panicUntil! - now)} from now), load asks for ${plural(raw, 'group')}`;
      return scaleUp(raw, why, true, recommendation);
    }
    if (raw > maxR) {
      return finish(
        cur,
        'clamped-to-bounds',
        `${cap(txt.burst(panicValue!))}, but maxReplicas is ${maxR}.`,
        recommendation,
      );
    }
    if (stableDesired < cur) {
      return finish(
        cur,
        'hold-panic',
        `In panic mode for another ${txt.seconds(panicUntil! - now)} after a burst: not scaling down ` +
          `although the stable window asks for ${plural(stableDesired, 'group')}.`,
        recommendation,
      );
    }
    return finish(
      cur,
      'within-target',
      `In panic mode; ${plural(cur, 'group')} ${txt.covers(panicValue!)}.`,
      recommendation,
    );
  }

  const recommendation = Math.min(Math.max(raw, floor), maxR);
  const windowComplete = stable.every((l) => l.missing === 0);

  const idleFor = now - lastActiveAt;
  if (
    policy.scaleToZero.enabled &&
    policy.minReplicas === 0 &&
    windowComplete &&
    stable.every((l) => l.idle) &&
    idleFor >= policy.scaleToZero.idleSeconds * 1000
  ) {
    return finish(
      0,
      'scale-to-zero',
      `No request for ${txt.seconds(idleFor)} (scaleToZero.idleSeconds ${policy.scaleToZero.idleSeconds}): ` +
        `scaling from ${cur} to 0 groups.`,
      0,
    );
  }

  const stableLoad = txt.load(stableValue!, policy.stableWindowSeconds);

  if (recommendation > cur) {
    const upRec = Math.min(
      recommendation,
      ...recentRecommendations(memory, now, policy.scaleUpStabilizationSeconds),
    );
    if (upRec > cur)
      return scaleUp(upRec, `${stableLoad}, i.e. ${plural(raw, 'group')}`, false, recommendation);
    return finish(
      cur,
      'hold-stabilization',
      `${stableLoad}, i.e. ${plural(raw, 'group')}, but only ${upRec} over the last ` +
        `${policy.scaleUpStabilizationSeconds} s (scale-up stabilization): holding at ${cur}.`,
      recommendation,
    );
  }

  if (recommendation < cur) {
    if (!windowComplete) {
      return finish(
        cur,
        'hold-missing-metrics',
        `${stableLoad}, i.e. ${plural(recommendation, 'group')}, but some metrics were missing within ` +
          `that window: not scaling down until a full window has been seen.`,
        cur,
      );
    }
    const downRec = Math.max(
      recommendation,
      ...recentRecommendations(memory, now, policy.scaleDownStabilizationSeconds),
    );
    if (downRec >= cur) {
      return finish(
        cur,
        'hold-stabilization',
        `${stableLoad}, i.e. ${plural(recommendation, 'group')}, but ${cur} were needed within the last ` +
          `${policy.scaleDownStabilizationSeconds} s (scale-down stabilization): holding at ${cur}.`,
        recommendation,
      );
    }
    const watched = now - observedSince;
    if (watched < policy.scaleDownStabilizationSeconds * 1000) {
      return finish(
        cur,
        'hold-stabilization',
        `${stableLoad}, i.e. ${plural(downRec, 'group')}, but the load has been watched for only ` +
          `${txt.seconds(watched)}: holding at ${cur} until a full scale-down window ` +
          `(${policy.scaleDownStabilizationSeconds} s) has been seen.`,
        recommendation,
      );
    }
    const sinceScale = memory.lastScaleAt === null ? Infinity : now - memory.lastScaleAt;
    if (sinceScale < policy.scaleDownStepSeconds * 1000) {
      return finish(
        cur,
        'hold-stabilization',
        `${stableLoad}, i.e. ${plural(downRec, 'group')}; the last change was ${txt.seconds(sinceScale)} ago ` +
          `(scaleDownStepSeconds ${policy.scaleDownStepSeconds}): holding at ${cur} before the next step.`,
        recommendation,
      );
    }
    const desired = Math.max(downRec, cur - policy.maxScaleDownStep);
    return finish(
      desired,
      'scale-down',
      `${stableLoad}; the most needed within the last ${policy.scaleDownStabilizationSeconds} s was ` +
        `${plural(downRec, 'group')}: scaling down from ${cur} to ${desired}` +
        (desired > downRec ? ` (at most ${policy.maxScaleDownStep} removed per step)` : '') +
        '.',
      recommendation,
    );
  }

  if (raw > maxR) {
    return finish(
      cur,
      'clamped-to-bounds',
      `${stableLoad}, i.e. ${plural(raw, 'group')}, but maxReplicas is ${maxR}.`,
      recommendation,
    );
  }
  return finish(
    cur,
    'within-target',
    raw < floor
      ? `${stableLoad}; staying at minReplicas ${floor}.`
      : `${stableLoad}; ${plural(cur, 'group')} ${txt.covers(stableValue!)}.`,
    recommendation,
  );
}

/** Groups needed to carry `load` at `target` each (tolerating float noise such as 47.999999). */
export function groupsFor(load: number, target: number): number {
  return Math.max(0, Math.ceil(load / target - 1e-9));
}

function recentRecommendations(memory: AutoscalerMemory, now: number, seconds: number): number[] {
  return memory.recommendations
    .filter((r) => r.at > now - seconds * 1000 && r.at < now)
    .map((r) => r.desired);
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function mean(xs: number[]): number {
  return sum(xs) / xs.length;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The sentences of decision messages, in one place. */
class Wording {
  constructor(
    private readonly policy: AutoscalingPolicy,
    private readonly state: ScaleState,
  ) {}

  private amount(v: number): string {
    return this.policy.metric === 'kvCache'
      ? `${round(v, 2)} groups' worth of KV cache`
      : `${round(v, 1)} ${this.policy.metric === 'waiting' ? 'waiting ' : ''}requests`;
  }

  private per(): string {
    const t = this.policy.target;
    return this.policy.metric === 'kvCache' ? `${Math.round(t * 100)}% KV cache per group` : `${t} per group`;
  }

  load(v: number, windowSeconds: number): string {
    return `Load averaged ${this.amount(v)} over the last ${windowSeconds} s (target ${this.per()})`;
  }

  burst(v: number): string {
    const ready = Math.max(this.state.ready, 1);
    const ratio = v / (this.policy.target * ready);
    return (
      `a burst of ${this.amount(v)} over the last ${this.policy.panicWindowSeconds} s is ${round(ratio, 1)}× ` +
      `what ${plural(this.state.ready, 'ready group')} carr${this.state.ready === 1 ? 'ies' : 'y'} at ` +
      `${this.per()} (panic at ${this.policy.panicThreshold}×)`
    );
  }

  covers(v: number): string {
    return `cover${this.state.current === 1 ? 's' : ''} ${this.amount(v)}`;
  }

  unseen(l: SampleLoad): string {
    const parts: string[] = [];
    if (l.missingGroups > 0) {
      parts.push(
        `the metrics of ${l.missingGroups} of ${this.state.ready} ready group${this.state.ready === 1 ? '' : 's'}`,
      );
    }
    if (l.gatewayUnreadable) parts.push("the gateway's in-flight and held requests");
    return cap(parts.join(' and '));
  }

  seconds(ms: number): string {
    return `${Math.round(ms / 1000)} s`;
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
