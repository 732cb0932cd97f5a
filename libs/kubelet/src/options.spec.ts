import { describe, expect, it } from 'vitest';
import { DEFAULT_NODE_SHAPE } from './nodes';
import { kubeletOptionsOf, nodeShapeOf } from './options';

describe('nodeShapeOf / kubeletOptionsOf', () => {
  it('default to the simulator shape and immediate pods with engines', () => {
    expect(nodeShapeOf({})).toEqual(DEFAULT_NODE_SHAPE);
    expect(kubeletOptionsOf({})).toEqual({
      podStartMs: 0,
      podReadyMs: 0,
      probePeriodMs: 100,
      enableEngines: true,
      podIpStart: undefined,
      engines: { maxNumSeqs: undefined, tpotMs: undefined, ttftMs: undefined, kvCacheTokens: undefined },
    });
  });

  it('take what is given, zero included', () => {
    const shape = nodeShapeOf({ nodes: 0, gpusPerNode: 4, topologyKey: 'zone' }, { namePrefix: 'gpu-' });
    expect(shape).toMatchObject({
      count: 0,
      gpusPerNode: 4,
      topologyKey: 'zone',
      racks: 2,
      namePrefix: 'gpu-',
    });
    expect(kubeletOptionsOf({ podStartMs: 200, engines: false, engineTpotMs: 5 })).toMatchObject({
      podStartMs: 200,
      enableEngines: false,
      engines: { tpotMs: 5 },
    });
  });
});
