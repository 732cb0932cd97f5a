import { describe, expect, it } from 'vitest';
import { IpPool, randomStart } from './ip-pool';

describe('IpPool', () => {
  it('hands out 127.0.1.x first, skips .0 and .255, and keeps addresses unique', () => {
    const pool = new IpPool();
    const ips = Array.from({ length: 300 }, () => pool.allocate());
    expect(ips[0]).toBe('127.0.1.1');
    expect(ips[253]).toBe('127.0.1.254');
    expect(ips[254]).toBe('127.0.2.1');
    expect(new Set(ips).size).toBe(300);
    expect(ips.some((ip) => ip.startsWith('127.0.0.'))).toBe(false);
    pool.release('127.0.1.1');
    expect(pool.size).toBe(299);
    expect(pool.allocate()).not.toBe('127.0.1.1');
  });

  it('starts where asked, and randomStart spreads simulators over the range on /24 boundaries', () => {
    expect(new IpPool('127.42.7.1').allocate()).toBe('127.42.7.1');
    expect(() => new IpPool('10.0.0.1')).toThrow(/outside/);
    const starts = new Set(Array.from({ length: 50 }, () => randomStart()));
    expect(starts.size).toBeGreaterThan(40);
    for (const s of starts) {
      expect(s).toMatch(/^127\.\d+\.\d+\.1$/);
      expect(new IpPool(s).allocate()).toBe(s);
    }
  });
});

describe('IpPool.reserve', () => {
  it('takes over an address in use elsewhere once, and never hands it out while held', () => {
    const pool = new IpPool('127.5.5.1');
    expect(pool.reserve('127.5.5.2')).toBe(true);
    expect(pool.reserve('127.5.5.2')).toBe(false);
    expect(pool.reserve('10.0.0.1')).toBe(false);
    expect([pool.allocate(), pool.allocate()]).toEqual(['127.5.5.1', '127.5.5.3']);
    pool.release('127.5.5.2');
    expect(pool.reserve('127.5.5.2')).toBe(true);
  });
});
