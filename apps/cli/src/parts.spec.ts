import { describe, expect, it } from 'vitest';
import { missingParts, planParts, receivedBytes } from './parts';

describe('part planning', () => {
  it('splits a file into parts of partSize, the last one the remainder', () => {
    const plan = planParts(10, 4, 3);
    expect(plan).toEqual([
      { partNumber: 1, start: 0, size: 4 },
      { partNumber: 2, start: 4, size: 4 },
      { partNumber: 3, start: 8, size: 2 },
    ]);
    expect(planParts(8, 4)).toHaveLength(2);
    expect(planParts(0, 4)).toEqual([{ partNumber: 1, start: 0, size: 0 }]);
    const big = planParts(100 * 1024 ** 3, 64 * 1024 ** 2);
    expect(big).toHaveLength(1600);
    expect(big.reduce((s, p) => s + p.size, 0)).toBe(100 * 1024 ** 3);
  });

  it('refuses a server part count that does not match', () => {
    expect(() => planParts(10, 4, 2)).toThrow(/part count/);
    expect(() => planParts(10, 0)).toThrow(/part size/);
  });

  it('finds the parts the server lacks, treating a wrong-sized part as missing', () => {
    const plan = planParts(10, 4);
    const received = [
      { partNumber: 1, size: 4 },
      { partNumber: 3, size: 1 },
    ];
    expect(missingParts(plan, received).map((p) => p.partNumber)).toEqual([2, 3]);
    expect(receivedBytes(plan, received)).toBe(4);
    expect(missingParts(plan, plan)).toEqual([]);
  });
});
