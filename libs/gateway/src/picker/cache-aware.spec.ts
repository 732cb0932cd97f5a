import { describe, expect, it } from 'vitest';
import { pickCacheAware, type RoutingReason } from './cache-aware';
import type { PickCandidate } from './picker';

const groups = (...outstanding: number[]): PickCandidate[] =>
  outstanding.map((o, i) => ({ id: `g${i}`, outstanding: o }));

describe('pickCacheAware', () => {
  it.each<[string, number[], number[], string, RoutingReason]>([
    ['the group holding the longest prefix, load even', [0, 0, 0, 0], [0, 3, 5, 1], 'g2', 'prefix_match'],
    ['a longer prefix beats a little more load', [1, 3, 1, 1], [0, 4, 1, 0], 'g1', 'prefix_match'],
    ['equal prefixes: the less loaded', [2, 1, 0, 0], [4, 4, 0, 0], 'g1', 'prefix_match'],
    ['above the bound, the next best holder takes it', [0, 9, 0, 0], [0, 6, 2, 0], 'g2', 'load_balance'],
    ['nobody else holds it: least outstanding', [1, 9, 0, 1], [0, 6, 0, 0], 'g2', 'load_balance'],
    ['bound grows with the mean load', [20, 22, 20, 20], [0, 8, 0, 0], 'g1', 'prefix_match'],
    ['but not beyond 1.25 x the mean', [20, 28, 20, 20], [0, 8, 0, 0], 'g0', 'load_balance'],
  ])('%s', (_, load, matched, id, reason) => {
    const choice = pickCacheAware({ candidates: groups(...load), matched, tick: 0, firstBlock: 42 });
    expect(choice.candidate.id).toBe(id);
    expect(choice.reason).toBe(reason);
  });

  it('a new prefix goes to a least loaded group, the same one for the same first block', () => {
    const a = pickCacheAware({
      candidates: groups(0, 0, 0, 0),
      matched: [0, 0, 0, 0],
      tick: 0,
      firstBlock: 7,
    });
    const b = pickCacheAware({
      candidates: groups(0, 0, 0, 0),
      matched: [0, 0, 0, 0],
      tick: 9,
      firstBlock: 7,
    });
    expect(a.reason).toBe('new_prefix');
    expect(b.candidate.id).toBe(a.candidate.id);
    const loaded = pickCacheAware({
      candidates: groups(1, 0, 1, 1),
      matched: [0, 0, 0, 0],
      tick: 0,
      firstBlock: 7,
    });
    expect(loaded.candidate.id).toBe('g1');
  });

  it('spreads different new prefixes over the groups', () => {
    const seen = new Set<string>();
    for (let block = 0; block < 64; block++) {
      seen.add(
        pickCacheAware({
          candidates: groups(0, 0, 0, 0),
          matched: [0, 0, 0, 0],
          tick: 0,
          firstBlock: block * 7919,
        }).candidate.id,
      );
    }
    expect(seen.size).toBe(4);
  });

  it('a prompt shorter than one block: least outstanding, ties rotated by tick', () => {
    const ids = [0, 1, 2, 3].map(
      (tick) => pickCacheAware({ candidates: groups(0, 0, 0, 0), matched: [0, 0, 0, 0], tick }).candidate.id,
    );
    expect(new Set(ids).size).toBe(4);
    expect(pickCacheAware({ candidates: groups(3, 1, 2, 2), matched: [0, 0, 0, 0], tick: 0 })).toMatchObject({
      candidate: { id: 'g1' },
      reason: 'least_outstanding',
    });
  });

  it('a hot prefix never takes a group above the bound: it spills and the load stays even', () => {
    const cands = groups(0, 0, 0, 0);
    const holders = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const matched = cands.map((_, j) => (holders.has(j) ? 10 : 0));
      const { candidate } = pickCacheAware({ candidates: cands, matched, tick: i, firstBlock: 1 });
      candidate.outstanding++;
      holders.add(cands.indexOf(candidate));
    }
    const loads = cands.map((c) => c.outstanding);
    expect(Math.max(...loads)).toBeLessThanOrEqual(1.25 * 50 + 1);
    expect(holders.size).toBe(4);
  });
});
