import { describe, expect, it } from 'vitest';
import { parseEngineCommand, parseSglangCommand } from './index';
import type { SglangCommand } from './types';

const base: SglangCommand = {
  model: '/models/m/v1',
  servedModelName: '/models/m/v1',
  host: '127.0.0.1',
  port: 30000,
  tp: 1,
  pp: 1,
  nnodes: 1,
  nodeRank: 0,
  enableMetrics: false,
};

describe('parseSglangCommand', () => {
  it.each<[string, string[] | undefined, string[] | undefined, Partial<SglangCommand> | null]>([
    ['defaults', ['python3', '-m', 'sglang.launch_server', '--model-path', '/models/m/v1'], undefined, {}],
    [
      'the rendered multi-node command, rank 1',
      ['python3', '-m', 'sglang.launch_server'],
      [
        '--model-path',
        '/models/m/v1',
        '--served-model-name',
        'llama',
        '--tp',
        '8',
        '--pp-size',
        '2',
        '--nnodes',
        '2',
        '--node-rank',
        '1',
        '--dist-init-addr',
        'llama-0.llama.ns:20000',
        '--host',
        '0.0.0.0',
        '--port',
        '30000',
        '--enable-metrics',
        '--context-length',
        '32k',
        '--max-running-requests',
        '64',
      ],
      {
        servedModelName: 'llama',
        tp: 8,
        pp: 2,
        nnodes: 2,
        nodeRank: 1,
        distInitAddr: 'llama-0.llama.ns:20000',
        host: '0.0.0.0',
        enableMetrics: true,
        contextLength: 32000,
        maxRunningRequests: 64,
      },
    ],
    [
      'aliases and --flag=value',
      ['python', '-m', 'sglang.launch_server', '--model=/m', '--tensor-parallel-size=4', '--port=31000'],
      undefined,
      { model: '/m', servedModelName: '/m', tp: 4, port: 31000 },
    ],
    [
      'unique prefixes, as argparse resolves them',
      ['python3', '-m', 'sglang.launch_server', '--model-p', '/m', '--served', 'x', '--tp', '2', '--nn', '1'],
      undefined,
      { model: '/m', servedModelName: 'x', tp: 2 },
    ],
    [
      'inside sh -c with exec and env, unknown flags and their values skipped',
      ['/bin/sh', '-c'],
      [
        'set -e\necho starting\nexec env NCCL_DEBUG=INFO python3 -u -m sglang.launch_server --model-path "/m" --chunked-prefill-size 4096 --trust-remote-code --port 30001',
      ],
      { model: '/m', servedModelName: '/m', port: 30001 },
    ],
    [
      'the last occurrence wins',
      ['python3', '-m', 'sglang.launch_server', '--model', 'a', '--model', 'b'],
      undefined,
      { model: 'b', servedModelName: 'b' },
    ],
    ['not SGLang', ['vllm', 'serve', '/m'], undefined, null],
    ['another python module', ['python3', '-m', 'http.server'], undefined, null],
    ['nothing', undefined, undefined, null],
  ])('%s', (_name, command, args, expected) => {
    const got = parseSglangCommand(command, args);
    expect(got).toEqual(expected === null ? null : { ...base, ...expected });
  });

  it.each<[string, string[], RegExp]>([
    [
      'a rank left unexpanded',
      ['--model-path', '/m', '--node-rank', '$(LWS_WORKER_INDEX)'],
      /--node-rank: invalid int value: '\$\(LWS_WORKER_INDEX\)'/,
    ],
    [
      'an ambiguous prefix (--pp: --pp-size, --pp-max-micro-batch-size, …)',
      ['--model-path', '/m', '--pp', '2'],
      /ambiguous option: --pp could match/,
    ],
    ['no model', ['--port', '30000'], /required: --model-path\/--model/],
    ['a positional argument', ['/m'], /unrecognized arguments: \/m/],
    ['a flag without its value', ['--model-path'], /--model-path\/--model: expected one argument/],
    [
      'a rank outside the group',
      ['--model-path', '/m', '--nnodes', '2', '--node-rank', '2', '--dist-init-addr', 'a:1'],
      /rank 2 is not a rank of --nnodes 2/,
    ],
    [
      'several nodes without a rendezvous',
      ['--model-path', '/m', '--nnodes', '2', '--node-rank', '1'],
      /needs --dist-init-addr/,
    ],
    [
      'a value for a store_true flag',
      ['--model-path', '/m', '--enable-metrics=yes'],
      /ignored explicit argument 'yes'/,
    ],
  ])('refuses %s, as SGLang would', (_name, args, message) => {
    const got = parseSglangCommand(['python3', '-m', 'sglang.launch_server'], args);
    expect(got).toEqual({ error: expect.stringMatching(message) });
  });
});

describe('parseEngineCommand: the mode of a pod', () => {
  const sglang = (rank: number) => [
    'python3',
    '-m',
    'sglang.launch_server',
    '--model-path',
    '/m',
    '--served-model-name',
    'llama',
    '--nnodes',
    '3',
    '--node-rank',
    String(rank),
    '--dist-init-addr',
    'l-0.l.ns:20000',
    '--port',
    '30000',
    '--enable-metrics',
  ];

  it('vLLM serves', () => {
    expect(parseEngineCommand(['vllm', 'serve', '/m', '--port', '8000'], undefined)).toEqual({
      kind: 'vllm',
      serves: true,
      enableMetrics: true,
      model: '/m',
      servedModelNames: ['/m'],
      port: 8000,
    });
  });

  it("SGLang's rank 0 serves HTTP on its port, with its served name", () => {
    expect(parseEngineCommand(sglang(0), undefined)).toEqual({
      kind: 'sglang',
      serves: true,
      model: '/m',
      servedModelNames: ['llama'],
      port: 30000,
      host: '127.0.0.1',
      enableMetrics: true,
    });
  });

  it('the other SGLang ranks serve nothing', () => {
    expect(parseEngineCommand(sglang(2), undefined)).toEqual({
      kind: 'sglang',
      serves: false,
      rank: 2,
      of: 3,
    });
  });

  it('an SGLang command SGLang would refuse is an engine that cannot start', () => {
    const cmd = parseEngineCommand(['python3', '-m', 'sglang.launch_server', '--port', 'x'], undefined);
    expect(cmd).toMatchObject({
      kind: 'sglang',
      serves: false,
      error: expect.stringMatching(/--port: invalid int/),
    });
  });

  it('a Ray worker, or anything else, is no engine', () => {
    expect(
      parseEngineCommand(['/bin/sh', '-c', 'exec ray start --address=x:6379 --block'], undefined),
    ).toBeNull();
    expect(parseEngineCommand(['nginx'], undefined)).toBeNull();
  });
});
