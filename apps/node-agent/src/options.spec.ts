import { describe, expect, it } from 'vitest';
import { parseAgentArgs } from './options';

describe('parseAgentArgs', () => {
  it('maps flags to options, with the CLI delays by default', () => {
    const parsed = parseAgentArgs([
      '--kubeconfig',
      '/tmp/kc',
      '--nodes',
      '3',
      '--gpus-per-node',
      '4',
      '--racks',
      '1',
      '--topology-key',
      'example.com/rack',
      '--engine-tpot-ms',
      '0',
      '--admin-port',
      '8181',
      '--no-engines',
      '--delete-nodes-on-exit',
    ]);
    expect(parsed).toEqual({
      kind: 'run',
      options: {
        kubeconfigPath: '/tmp/kc',
        nodes: 3,
        gpusPerNode: 4,
        racks: 1,
        topologyKey: 'example.com/rack',
        engineTpotMs: 0,
        adminPort: 8181,
        engines: false,
        deleteNodesOnStop: true,
        podStartMs: 200,
        podReadyMs: 500,
        probePeriodMs: 200,
      },
    });
  });

  it('takes KUBECONFIG from the environment and says what is wrong', () => {
    expect(parseAgentArgs([], { KUBECONFIG: '/k' })).toMatchObject({
      kind: 'run',
      options: { kubeconfigPath: '/k' },
    });
    expect(parseAgentArgs([])).toEqual({
      kind: 'error',
      message: '--kubeconfig is required (or set KUBECONFIG)',
    });
    expect(parseAgentArgs(['--kubeconfig', 'k', '--nodes=-1'])).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('--nodes must be a non-negative number'),
    });
    expect(parseAgentArgs(['--kubeconfig', 'k', '--nodes', '2.5'])).toMatchObject({ kind: 'error' });
    expect(parseAgentArgs(['--kubeconfig', 'k', '--bogus'])).toMatchObject({ kind: 'error' });
    expect(parseAgentArgs(['-h'])).toEqual({ kind: 'help' });
  });
});
