import { describe, expect, it } from 'vitest';
import { IpPool } from './ip-pool';

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
});
