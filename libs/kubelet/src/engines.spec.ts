import { describe, expect, it } from 'vitest';
import { engineOf, expandVars } from './engines';
import type { Container } from './types';

describe('expandVars', () => {
  it.each([
    ['--size=$(LWS_GROUP_SIZE)', '--size=4'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(LWS_GROUP_SIZE)', '$(LWS_GROUP_SIZE)'],
  ])('%s', (input, expected) => {
    expect(expandVars(input, { LWS_GROUP_SIZE: '4' })).toBe(expected);
  });
});

/** An SGLang container as libs/lws renders it, with the env the LWS controller injects. */
const sglang = (workerIndex: string | undefined): Container => ({
  name: workerIndex === '0' ? 'sglang-leader' : 'sglang-worker',
  image: 'lmsysorg/sglang:v0.5.3',
  command: [
    'python3',
    '-m',
    'sglang.launch_server',
    '--model-path',
    '/models/llama/v1',
    '--served-model-name',
    'llama',
    '--tp',
    '8',
    '--pp-size',
    '2',
    '--nnodes',
    '2',
    '--node-rank',
    '$(LWS_WORKER_INDEX)',
    '--dist-init-addr',
    '$(LWS_LEADER_ADDRESS):20000',
    '--host',
    '0.0.0.0',
    '--port',
    '30000',
    '--enable-metrics',
    '--max-running-requests',
    '4',
  ],
  env: [
    { name: 'LWS_LEADER_ADDRESS', value: 'llama-0.llama.ns' },
    { name: 'LWS_GROUP_SIZE', value: '2' },
    ...(workerIndex === undefined ? [] : [{ name: 'LWS_WORKER_INDEX', value: workerIndex }]),
  ],
});

describe('engineOf', () => {
  it('finds vllm serve inside sh -c with env references', () => {
    const cmd = engineOf({
      name: 'vllm',
      image: 'vllm/vllm-openai',
      command: ['sh', '-c'],
      args: ['ray start --head && vllm serve meta/llama --port $(PORT) --served-model-name llama'],
      env: [{ name: 'PORT', value: '8080' }],
    });
    expect(cmd).toMatchObject({
      kind: 'vllm',
      serves: true,
      model: 'meta/llama',
      port: 8080,
      servedModelNames: ['llama'],
    });
  });

  it('an SGLang leader (rank 0 from LWS_WORKER_INDEX) serves on its port', () => {
    expect(engineOf(sglang('0'))).toMatchObject({
      kind: 'sglang',
      serves: true,
      model: '/models/llama/v1',
      servedModelNames: ['llama'],
      port: 30000,
      host: '0.0.0.0',
      maxNumSeqs: 4,
      enableMetrics: true,
    });
  });

  it('an SGLang worker (rank 1) is an engine that serves nothing', () => {
    expect(engineOf(sglang('1'))).toEqual({ kind: 'sglang', serves: false, rank: 1, of: 2 });
  });

  it('without the LWS variable the rank is no int: SGLang would exit', () => {
    expect(engineOf(sglang(undefined))).toMatchObject({
      kind: 'sglang',
      serves: false,
      error: expect.stringMatching(/--node-rank: invalid int value: '\$\(LWS_WORKER_INDEX\)'/),
    });
  });

  it('ignores other containers (a Ray worker, nginx)', () => {
    expect(engineOf({ name: 'nginx', image: 'nginx', command: ['nginx'] })).toBeNull();
    expect(
      engineOf({
        name: 'w',
        image: 'i',
        command: ['/bin/sh', '-c', 'exec ray start --address=h:6379 --block'],
      }),
    ).toBeNull();
  });
});
