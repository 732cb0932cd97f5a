import { describe, expect, it } from 'vitest';
import { bearerToken, generateApiKey, hashApiKey, keyMatchesHash, keyPrefix } from './api-key.codec';

describe('api key codec', () => {
  it('generates troupe_ keys with at least 128 random bits, a prefix and a sha256 hash', () => {
    const { key, prefix, hash } = generateApiKey();
    expect(key).toMatch(/^troupe_[A-Za-z0-9_-]{43}$/);
    // 43 base64url characters carry 258 bits; the 8-char public prefix leaves > 200 secret bits.
    expect((key.length - 'troupe_'.length - 8) * 6).toBeGreaterThanOrEqual(128);
    expect(prefix).toBe(key.slice(0, 'troupe_'.length + 8));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(hashApiKey(key));
    expect(hash).not.toContain(key.slice(7));
  });

  it('never generates the same key twice', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey().key));
    expect(keys.size).toBe(1000);
  });

  it.each([
    ['', null],
    ['troupe_', null],
    ['troupe_short', null],
    ['sk-abcdefghijklmnopqrstuvwxyz0123456789', null],
    ['troupe_abc def ghijklmnopqrstuvwxyz0123456', null],
    ['troupe_ABCDEFGHabcdefghijklmnopqrstuv', 'troupe_ABCDEFGH'],
  ])('prefix of %j is %j', (token, expected) => {
    expect(keyPrefix(token)).toBe(expected);
  });

  it('matches only the exact key', () => {
    const { key, hash } = generateApiKey();
    expect(keyMatchesHash(key, hash)).toBe(true);
    const flipped = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    expect(keyMatchesHash(flipped, hash)).toBe(false);
    expect(keyMatchesHash(key, 'abc')).toBe(false);
  });

  it.each([
    [undefined, null],
    ['', null],
    ['Basic abc', null],
    ['Bearer', null],
    ['Bearer abc', 'abc'],
    ['bearer   abc ', 'abc'],
    ['Bearer a b', null],
  ])('bearer token of %j is %j', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});
