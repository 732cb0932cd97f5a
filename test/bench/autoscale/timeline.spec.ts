import { describe, expect, it } from 'vitest';
import { reactionTimes, seconds, timelineTable, type TimelineRow } from './timeline';

describe('reactionTimes', () => {
  const stepAt = 10_000;
  it('measures from the load step to the decision, the actuation, the first and the last group ready', () => {
    const r = reactionTimes({
      stepAt,
      groupsBefore: 1,
      scaleUpDecisions: [2_000, 10_900, 12_000],
      lws: [
        { at: 9_000, desired: 2, ready: 2 }, // before the step: ignored
        { at: 10_500, desired: 1, ready: 1 },
        { at: 11_000, desired: 2, ready: 1 },
        { at: 12_100, desired: 4, ready: 1 },
        { at: 15_000, desired: 4, ready: 2 },
        { at: 18_000, desired: 4, ready: 3 },
        { at: 19_000, desired: 4, ready: 4 },
      ],
    });
    expect(r).toEqual({
      toDecisionMs: 900,
      toActuationMs: 1_000,
      toFirstReadyMs: 5_000,
      toAllReadyMs: 9_000,
      peakDesired: 4,
    });
  });

  it('says n/a for what never happened', () => {
    const r = reactionTimes({
      stepAt,
      groupsBefore: 1,
      scaleUpDecisions: [],
      lws: [{ at: 11_000, desired: 1, ready: 1 }],
    });
    expect(r).toEqual({
      toDecisionMs: null,
      toActuationMs: null,
      toFirstReadyMs: null,
      toAllReadyMs: null,
      peakDesired: 1,
    });
    expect(seconds(r.toDecisionMs)).toBe('n/a');
    expect(seconds(1234)).toBe('1.2 s');
  });
});

describe('timelineTable', () => {
  it('folds rows where nothing changed', () => {
    const rows: TimelineRow[] = [
      { t: 0, offered: 16, desired: 1, ready: 1, reason: 'within-target' },
      { t: 1, offered: 16, desired: 1, ready: 1, reason: 'within-target' },
      { t: 2, offered: 64, desired: 1, ready: 1, reason: 'within-target' },
      { t: 3, offered: 64, desired: 4, ready: 1, reason: 'panic-scale-up' },
    ];
    expect(timelineTable(rows, 16).split('\n')).toEqual([
      '| t (s) | offered (requests) | offered (× target) | desired | ready | decision |',
      '|---:|---:|---:|---:|---:|---|',
      '| 0 | 16 | 1.0 | 1 | 1 | within-target |',
      '| 2 | 64 | 4.0 | 1 | 1 | within-target |',
      '| 3 | 64 | 4.0 | 4 | 1 | panic-scale-up |',
    ]);
  });
});
