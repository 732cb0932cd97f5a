import { describe, expect, it } from 'vitest';
import { sumGatewayLoads } from './gateway-load';

describe('sumGatewayLoads', () => {
  it.each<[string, (Record<string, string> | null)[], Record<string, { inflight: number; held: number }>]>([
    ['no gateways', [], {}],
    ['one gateway', [{ a: '{"inflight":3,"held":0}' }], { a: { inflight: 3, held: 0 } }],
    [
      'summed over gateways',
      [{ a: '{"inflight":3,"held":1}', b: '{"inflight":1,"held":0}' }, { a: '{"inflight":2,"held":4}' }],
      { a: { inflight: 5, held: 5 }, b: { inflight: 1, held: 0 } },
    ],
    [
      'an expired hash (null) adds nothing',
      [null, { a: '{"inflight":1,"held":0}' }],
      { a: { inflight: 1, held: 0 } },
    ],
    ['a missing count is zero', [{ a: '{"held":2}' }], { a: { inflight: 0, held: 2 } }],
    [
      'garbage is skipped, not zero',
      [{ a: 'nope', b: '{"inflight":-1}', c: '{"inflight":"3"}', d: '[]', e: '{"inflight":2,"held":1}' }],
      { e: { inflight: 2, held: 1 } },
    ],
  ])('%s', (_, hashes, expected) => {
    expect(Object.fromEntries(sumGatewayLoads(hashes))).toEqual(expected);
  });
});
