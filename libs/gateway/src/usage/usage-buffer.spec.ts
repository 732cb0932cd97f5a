import { describe, expect, it } from 'vitest';
import { UsageBuffer } from './usage-buffer';

describe('UsageBuffer', () => {
  it('hands out the oldest entries first, in batches', () => {
    const b = new UsageBuffer<number>(10);
    for (let i = 1; i <= 5; i++) expect(b.push(i)).toBe(true);
    expect(b.take(2)).toEqual([1, 2]);
    expect(b.take(10)).toEqual([3, 4, 5]);
    expect(b.take(10)).toEqual([]);
  });

  it('puts a failed batch back in front, in order', () => {
    const b = new UsageBuffer<number>(10);
    [1, 2, 3].forEach((i) => b.push(i));
    const batch = b.take(2);
    b.push(4);
    b.putBack(batch);
    expect(b.take(10)).toEqual([1, 2, 3, 4]);
  });

  it('is bounded, counting the batch being written', () => {
    const b = new UsageBuffer<number>(3);
    [1, 2, 3].forEach((i) => b.push(i));
    expect(b.push(4)).toBe(false);
    const batch = b.take(2);
    expect(b.push(4)).toBe(false);
    expect(b.pending).toBe(1);
    b.putBack(batch);
    expect(b.push(4)).toBe(false);
    const again = b.take(3);
    b.done(again);
    expect(b.push(4)).toBe(true);
    expect(b.pending).toBe(1);
  });
});
