import { describe, expect, it } from 'vitest';
import { pickEndpoint, PickCandidate, rendezvousScore } from './picker';

const c = (id: string, outstanding: number, waiting?: number): PickCandidate => ({
  id,
  outstanding,
  ...(waiting === undefined ? {} : { waiting }),
});

describe('pickEndpoint', () => {
  it.each([
    ['no candidates', [], 0, undefined],
    ['the only candidate, however loaded', [c('a', 9)], 0, 'a'],
    ['least outstanding', [c('a', 3), c('b', 1), c('c', 2)], 0, 'b'],
    ['tie on outstanding broken by the waiting queue', [c('a', 1, 5), c('b', 1, 2)], 0, 'b'],
    ['waiting does not beat fewer outstanding', [c('a', 1, 50), c('b', 2, 0)], 0, 'a'],
    ['unknown waiting counts as an idle queue', [c('a', 1, 3), c('b', 1)], 0, 'b'],
    ['full tie: tick 0 takes the first', [c('a', 0), c('b', 0)], 0, 'a'],
    ['full tie: tick 1 takes the second', [c('a', 0), c('b', 0)], 1, 'b'],
    ['full tie: tick wraps', [c('a', 0), c('b', 0), c('c', 0)], 4, 'b'],
    ['tick rotates only among the tied', [c('a', 0), c('b', 1), c('c', 0)], 1, 'c'],
  ])('%s', (_, candidates, tick, expected) => {
    expect(pickEndpoint({ candidates, tick })?.id).toBe(expected);
  });

  it.each([
    ['skips the excluded group', [c('a', 0), c('b', 5)], ['a'], 'b'],
    ['nothing left when every group is excluded', [c('a', 0)], ['a'], undefined],
    ['exclusion of an unknown id changes nothing', [c('a', 2), c('b', 1)], ['z'], 'b'],
  ])('%s', (_, candidates, exclude, expected) => {
    expect(pickEndpoint({ candidates, exclude: new Set(exclude), tick: 0 })?.id).toBe(expected);
  });

  describe('session affinity', () => {
    const groups = [c('g0', 0), c('g1', 0), c('g2', 0), c('g3', 0)];
    const preferred = (key: string, ids: string[]) =>
      [...ids].sort((x, y) => rendezvousScore(key, y) - rendezvousScore(key, x))[0];

    it('sends a key to the group with the highest rendezvous score, whatever the tick', () => {
      for (const key of ['alice', 'bob', 'session-42', 'x']) {
        const want = preferred(key, ['g0', 'g1', 'g2', 'g3']);
        for (const tick of [0, 1, 2, 3]) {
          expect(pickEndpoint({ candidates: groups, affinityKey: key, tick })?.id).toBe(want);
        }
      }
    });

    it('spreads many keys over all groups', () => {
      const counts = new Map<string, number>();
      for (let i = 0; i < 4000; i++) {
        const id = pickEndpoint({ candidates: groups, affinityKey: `user-${i}`, tick: 0 })!.id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      expect(counts.size).toBe(4);
      for (const n of counts.values()) expect(n).toBeGreaterThan(800);
    });

    it('moves only the keys of a group that went away', () => {
      const before = new Map<string, string>();
      for (let i = 0; i < 500; i++) {
        before.set(`k${i}`, pickEndpoint({ candidates: groups, affinityKey: `k${i}`, tick: 0 })!.id);
      }
      const remaining = groups.filter((g) => g.id !== 'g2');
      for (const [key, id] of before) {
        const now = pickEndpoint({ candidates: remaining, affinityKey: key, tick: 0 })!.id;
        if (id !== 'g2') expect(now).toBe(id);
        else expect(now).not.toBe('g2');
      }
    });

    it.each([
      // 4 groups, 8 in flight on the preferred one, none elsewhere: bound = ceil(9/4*1.25) = 3.
      ['leaves an overloaded preferred group for the next in rank', 8, 0, false],
      // 2 in flight on the preferred one, 2 elsewhere: total 8, bound = ceil(9/4*1.25) = 3, 2+1 <= 3.
      ['stays while the preferred group is within the bound', 2, 2, true],
    ])('%s', (_, onPreferred, elsewhere, stays) => {
      const key = 'sticky';
      const want = preferred(key, ['g0', 'g1', 'g2', 'g3']);
      const loaded = groups.map((g) => c(g.id, g.id === want ? onPreferred : elsewhere));
      const got = pickEndpoint({ candidates: loaded, affinityKey: key, tick: 0 })!.id;
      expect(got === want).toBe(stays);
    });

    it('an affinity key still avoids excluded groups', () => {
      const key = 'retry-me';
      const want = preferred(key, ['g0', 'g1', 'g2', 'g3']);
      const got = pickEndpoint({ candidates: groups, affinityKey: key, exclude: new Set([want]), tick: 0 });
      expect(got?.id).not.toBe(want);
      expect(got).toBeDefined();
    });
  });
});
