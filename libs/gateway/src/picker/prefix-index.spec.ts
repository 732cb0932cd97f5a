import { describe, expect, it } from 'vitest';
import { PrefixIndex } from './prefix-index';

const ids = ['a', 'b', 'c'];
const matchOf = (index: PrefixIndex, blocks: number[], now = 0): number[] => {
  const out: number[] = [];
  index.match(blocks, ids, now, out);
  return out;
};

describe('PrefixIndex', () => {
  it.each<[string, [number[], string][], number[], number[]]>([
    ['nothing recorded', [], [1, 2, 3], [0, 0, 0]],
    [
      'the longest common prefix per group',
      [
        [[1, 2, 3], 'a'],
        [[1, 9], 'b'],
      ],
      [1, 2, 3, 4],
      [3, 1, 0],
    ],
    ['a block is only a match after the ones before it', [[[2, 3], 'a']], [1, 2, 3], [0, 0, 0]],
    [
      'several groups share a prefix',
      [
        [[1, 2], 'a'],
        [[1, 2, 3], 'c'],
      ],
      [1, 2, 3],
      [2, 0, 3],
    ],
  ])('%s', (_, sent, query, expected) => {
    const index = new PrefixIndex();
    for (const [blocks, group] of sent) index.record(blocks, group, 0);
    expect(matchOf(index, query)).toEqual(expected);
  });

  it('forgets entries older than the TTL, and refreshes them when sent again', () => {
    const index = new PrefixIndex({ ttlMs: 1000 });
    index.record([1, 2], 'a', 0);
    expect(matchOf(index, [1, 2], 1000)).toEqual([2, 0, 0]);
    expect(matchOf(index, [1, 2], 1001)).toEqual([0, 0, 0]);
    index.record([1], 'a', 1500);
    expect(matchOf(index, [1, 2], 2000)).toEqual([1, 0, 0]);
  });

  it('keeps at most maxBlocks, the least recently used dropped first', () => {
    const index = new PrefixIndex({ maxBlocks: 3 });
    index.record([1, 2], 'a', 0);
    index.record([5], 'b', 0);
    index.record([1, 2], 'a', 1); // 1 and 2 used again: 5 is the oldest
    index.record([7], 'c', 2);
    expect(index.size).toBe(3);
    expect(matchOf(index, [5])).toEqual([0, 0, 0]);
    expect(matchOf(index, [1, 2])).toEqual([2, 0, 0]);
  });

  it('drops a group that went away, keeping what others hold', () => {
    const index = new PrefixIndex();
    index.record([1, 2], 'a', 0);
    index.record([1], 'b', 0);
    index.dropGroup('a');
    expect(index.blocksOf('a')).toBe(0);
    expect(index.size).toBe(1);
    expect(matchOf(index, [1, 2])).toEqual([0, 1, 0]);
  });
});
