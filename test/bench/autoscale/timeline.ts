/**
 * The autoscale benchmark's timeline: one row per second of what was offered and what the platform
 * did, the reaction times derived from it, and its text table. Pure.
 */

export interface TimelineRow {
  /** Seconds since the load started. */
  t: number;
  /** Requests the load generator keeps in flight (closed loop). */
  offered: number;
  /** LWS spec.replicas. */
  desired: number;
  /** LWS status.readyReplicas. */
  ready: number;
  /** The autoscaler's last decision reason, when one was recorded. */
  reason: string | null;
}

export interface Phase {
  label: string;
  seconds: number;
  /** Requests in flight during the phase. */
  clients: number;
}

export interface Reaction {
  /** Load step -> first decision that asks for more groups (autoscaler event time). */
  toDecisionMs: number | null;
  /** Load step -> LWS spec.replicas raised. */
  toActuationMs: number | null;
  /** Load step -> first added group ready. */
  toFirstReadyMs: number | null;
  /** Load step -> all the groups the step led to ready. */
  toAllReadyMs: number | null;
  /** Highest desired after the step. */
  peakDesired: number;
}

/** Instants (ms epoch) observed during the run. */
export interface Observations {
  stepAt: number;
  groupsBefore: number;
  /** Decision events that raised the number of groups, time-ordered. */
  scaleUpDecisions: number[];
  /** Each observed LWS state, time-ordered (polled). */
  lws: { at: number; desired: number; ready: number }[];
}

export function reactionTimes(o: Observations): Reaction {
  const after = o.lws.filter((s) => s.at >= o.stepAt);
  const peakDesired = Math.max(o.groupsBefore, ...after.map((s) => s.desired));
  const first = <T>(xs: T[], pred: (x: T) => boolean) => xs.find(pred);
  const since = (at: number | undefined) => (at === undefined ? null : at - o.stepAt);
  return {
    toDecisionMs: since(first(o.scaleUpDecisions, (at) => at >= o.stepAt)),
    toActuationMs: since(first(after, (s) => s.desired > o.groupsBefore)?.at),
    toFirstReadyMs: since(first(after, (s) => s.ready > o.groupsBefore)?.at),
    toAllReadyMs:
      peakDesired > o.groupsBefore ? since(first(after, (s) => s.ready >= peakDesired)?.at) : null,
    peakDesired,
  };
}

/** The timeline as a Markdown table; rows where nothing changed are folded into the row before. */
export function timelineTable(rows: TimelineRow[], target: number): string {
  const lines = [
    '| t (s) | offered (requests) | offered (× target) | desired | ready | decision |',
    '|---:|---:|---:|---:|---:|---|',
  ];
  let prev: TimelineRow | undefined;
  for (const r of rows) {
    const same =
      prev !== undefined &&
      prev.offered === r.offered &&
      prev.desired === r.desired &&
      prev.ready === r.ready &&
      prev.reason === r.reason;
    if (!same) {
      lines.push(
        `| ${r.t.toFixed(0)} | ${r.offered} | ${(r.offered / target).toFixed(1)} | ${r.desired} | ${r.ready} | ${r.reason ?? ''} |`,
      );
    }
    prev = r;
  }
  return lines.join('\n');
}

export const seconds = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
