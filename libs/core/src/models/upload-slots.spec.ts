import { describe, expect, it } from 'vitest';
import { UploadSlots } from './upload-slots';

describe('UploadSlots', () => {
  it('caps uploads per project and per process, and frees a slot once, on release', () => {
    const slots = new UploadSlots(3, 2);
    const a1 = slots.take('a');
    const a2 = slots.take('a');
    expect('release' in a1 && 'release' in a2).toBe(true);
    const a3 = slots.take('a');
    expect(a3).toEqual({ refused: expect.stringMatching(/2 uploads in progress.*PER_PROJECT=2/) });
    const b1 = slots.take('b');
    expect('release' in b1).toBe(true);
    expect(slots.take('c')).toEqual({ refused: expect.stringMatching(/3 uploads at once.*CONCURRENT=3/) });
    if (!('release' in a1)) throw new Error('unreachable');
    a1.release();
    a1.release(); // twice: still one slot
    expect(slots.inUse).toBe(2);
    expect('release' in slots.take('c')).toBe(true);
    expect('refused' in slots.take('a')).toBe(true); // the process is full again
  });
});
