import { describe, expect, it } from 'vitest';
import { decodeLease, encodeLease, mayWrite, renewDelayMs } from './lease';

describe('lease value', () => {
  it('round-trips fence and token (tokens may hold colons)', () => {
    expect(decodeLease(encodeLease(42, 'a:b'))).toEqual({ fence: 42, token: 'a:b' });
  });
  it.each([null, '', 'x', ':t', '0:t', '-1:t', 'abc:t', '1.5:t'])('rejects %j', (v) => {
    expect(decodeLease(v)).toBeNull();
  });
});

describe('mayWrite', () => {
  it.each([
    [5_000, 1_000, true],
    [1_001, 1_000, true],
    [1_000, 1_000, false],
    [10, 1_000, false],
    [-1, 0, false],
  ])('%i ms left, margin %i -> %s', (left, margin, expected) => {
    expect(mayWrite(left, margin)).toBe(expected);
  });
});

describe('renewDelayMs', () => {
  it.each([
    [9_000, 3_000],
    [10_000, 3_333],
    [1, 1],
  ])('ttl %i -> %i', (ttl, expected) => {
    expect(renewDelayMs(ttl)).toBe(expected);
  });
});
