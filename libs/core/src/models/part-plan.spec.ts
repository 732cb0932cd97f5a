import { describe, expect, it } from 'vitest';
import { partLength, planParts } from './part-plan';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('planParts', () => {
  it.each([
    [0, 16 * MiB, { partSize: 16 * MiB, partCount: 1 }],
    [1, 16 * MiB, { partSize: 16 * MiB, partCount: 1 }],
    [16 * MiB, 16 * MiB, { partSize: 16 * MiB, partCount: 1 }],
    [16 * MiB + 1, 16 * MiB, { partSize: 16 * MiB, partCount: 2 }],
    [100 * GiB, 16 * MiB, { partSize: 16 * MiB, partCount: 6400 }],
    // 200 GiB at 16 MiB would be 12,800 parts: grow to 21 MiB -> 9,753 parts
    [200 * GiB, 16 * MiB, { partSize: 21 * MiB, partCount: 9753 }],
  ])('size %i with preferred %i', (size, preferred, expected) => {
    const plan = planParts(size, preferred);
    expect(plan).toEqual(expected);
    expect(plan.partCount).toBeLessThanOrEqual(10_000);
    expect((plan.partCount - 1) * plan.partSize).toBeLessThan(Math.max(size, 1));
  });

  it('gives the last part the remainder', () => {
    const size = 40 * MiB + 5;
    const plan = planParts(size, 16 * MiB);
    expect([1, 2, 3].map((n) => partLength(plan, size, n))).toEqual([16 * MiB, 16 * MiB, 8 * MiB + 5]);
  });
});
