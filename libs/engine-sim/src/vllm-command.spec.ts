import { describe, expect, it } from 'vitest';
import { parseVllmCommand } from './index';
import { splitShell } from './vllm-command';
import type { VllmCommand } from './types';

type Case = [
  name: string,
  command: string[] | undefined,
  args: string[] | undefined,
  expected: VllmCommand | null,
];

const cases: Case[] = [
  [
    'vllm serve with defaults',
    ['vllm', 'serve', '/models/x'],
    undefined,
    { model: '/models/x', servedModelNames: ['/models/x'], port: 8000 },
  ],
  [
    'vllm serve, command and args split',
    ['vllm'],
    ['serve', 'meta-llama/Llama-3.1-8B', '--port', '8080', '--host', '0.0.0.0'],
    {
      model: 'meta-llama/Llama-3.1-8B',
      servedModelNames: ['meta-llama/Llama-3.1-8B'],
      port: 8080,
      host: '0.0.0.0',
    },
  ],
  [
    '--flag=value forms and several served names',
    ['/usr/local/bin/vllm', 'serve', '/models/x'],
    [
      '--port=9000',
      '--max-num-seqs=64',
      '--max-model-len=8192',
      '--served-model-name',
      'a',
      'b',
      '--enforce-eager',
    ],
    { model: '/models/x', servedModelNames: ['a', 'b'], port: 9000, maxNumSeqs: 64, maxModelLen: 8192 },
  ],
  [
    'served name with =, boolean flags between',
    [
      'vllm',
      'serve',
      'm',
      '--trust-remote-code',
      '--served-model-name=alias',
      '--enable-prefix-caching',
      '--max-model-len',
      '32k',
    ],
    undefined,
    { model: 'm', servedModelNames: ['alias'], port: 8000, maxModelLen: 32000 },
  ],
  [
    'max-model-len with K',
    ['vllm', 'serve', 'm', '--max-model-len', '32K'],
    undefined,
    { model: 'm', servedModelNames: ['m'], port: 8000, maxModelLen: 32768 },
  ],
  [
    'python3 -m api_server --model',
    ['python3', '-m', 'vllm.entrypoints.openai.api_server'],
    ['--model', '/models/y', '--port', '8001', '--tensor-parallel-size', '8', '--max_num_seqs', '32'],
    { model: '/models/y', servedModelNames: ['/models/y'], port: 8001, maxNumSeqs: 32 },
  ],
  [
    'python -m api_server, underscored flags',
    [
      'python',
      '-u',
      '-m',
      'vllm.entrypoints.openai.api_server',
      '--model=/m',
      '--served_model_name',
      'svc',
      '--max_model_len=4096',
    ],
    undefined,
    { model: '/m', servedModelNames: ['svc'], port: 8000, maxModelLen: 4096 },
  ],
  [
    'sh -c: ray head then vllm serve',
    ['sh', '-c'],
    [
      'ray start --head --port=6379 && vllm serve /models/x --port 8000 --tensor-parallel-size 8 --pipeline-parallel-size 2 --served-model-name "my model" chat; ',
    ],
    { model: '/models/x', servedModelNames: ['my model', 'chat'], port: 8000 },
  ],
  [
    'LWS example: bash -c, multi-node script then api_server',
    ['/bin/bash', '-c'],
    [
      'bash /vllm-workspace/examples/online_serving/multi-node-serving.sh leader --ray_cluster_size=$(LWS_GROUP_SIZE); python3 -m vllm.entrypoints.openai.api_server --port 8080 --model meta-llama/Meta-Llama-3.1-405B-Instruct --tensor-parallel-size 8 --pipeline_parallel_size 2',
    ],
    {
      model: 'meta-llama/Meta-Llama-3.1-405B-Instruct',
      servedModelNames: ['meta-llama/Meta-Llama-3.1-405B-Instruct'],
      port: 8080,
    },
  ],
  [
    'multi-line script with continuations, env and exec',
    ['bash', '-ec'],
    [
      "set -x\n# start the server\nexport HF_HOME=/cache\nVLLM_LOGGING_LEVEL=DEBUG exec vllm serve '/models/with space' \\\n  --host 127.0.1.7 \\\n  --port 8000 \\\n  --max-num-seqs 16\n",
    ],
    {
      model: '/models/with space',
      servedModelNames: ['/models/with space'],
      port: 8000,
      host: '127.0.1.7',
      maxNumSeqs: 16,
    },
  ],
  [
    'env wrapper',
    ['env', 'CUDA_VISIBLE_DEVICES=0', 'vllm', 'serve', 'm', '--port', '7000'],
    undefined,
    { model: 'm', servedModelNames: ['m'], port: 7000 },
  ],
  [
    'nested sh -c inside bash -c',
    ['bash', '-c', `sh -c "vllm serve m --port 8100"`],
    undefined,
    { model: 'm', servedModelNames: ['m'], port: 8100 },
  ],
  [
    'vllm serve --model instead of positional',
    ['vllm', 'serve', '--model', 'm2', '--port', '8002'],
    undefined,
    { model: 'm2', servedModelNames: ['m2'], port: 8002 },
  ],
  [
    'no command: args for the vllm-openai image entrypoint',
    undefined,
    ['--model', 'm3', '--max-model-len', '2048'],
    { model: 'm3', servedModelNames: ['m3'], port: 8000, maxModelLen: 2048 },
  ],
  [
    'port from an unexpanded variable falls back to 8000',
    ['sh', '-c', 'vllm serve m --port $PORT'],
    undefined,
    { model: 'm', servedModelNames: ['m'], port: 8000 },
  ],
  ['ray worker', ['sh', '-c'], ['ray start --address=$(LWS_LEADER_ADDRESS):6379 --block'], null],
  [
    'LWS worker script',
    ['/bin/sh', '-c'],
    [
      'bash /vllm-workspace/examples/online_serving/multi-node-serving.sh worker --ray_address=$(LWS_LEADER_ADDRESS)',
    ],
    null,
  ],
  ['nginx', ['nginx', '-g', 'daemon off;'], undefined, null],
  ['no command at all', undefined, undefined, null],
  ['args without vLLM flags', undefined, ['-g', 'daemon off;'], null],
  ['vllm but not serve', ['vllm', 'bench', 'serve', '--model', 'm'], undefined, null],
  ['python script', ['python3', 'train.py', '--model', 'm'], undefined, null],
  ['other python module', ['python3', '-m', 'http.server', '8000'], undefined, null],
  ['echo mentioning vllm serve', ['sh', '-c', 'echo "vllm serve m"'], undefined, null],
];

describe('parseVllmCommand', () => {
  it.each(cases)('%s', (_name, command, args, expected) => {
    expect(parseVllmCommand(command, args)).toEqual(expected);
  });
});

describe('splitShell', () => {
  it.each<[string, string[][]]>([
    ['a b && c "d e" | f; g', [['a', 'b'], ['c', 'd e'], ['f'], ['g']]],
    [`a 'b "c"' "d \\"e\\" \\$x" f\\ g`, [['a', 'b "c"', 'd "e" $x', 'f g']]],
    ['a --x=$(VAR) ${Y} # comment\nb', [['a', '--x=$(VAR)', '${Y}'], ['b']]],
    ['(cd /x && run) & wait', [['cd', '/x'], ['run'], ['wait']]],
    ['a \\\n  b', [['a', 'b']]],
    ['a "" b', [['a', '', 'b']]],
  ])('%s', (script, expected) => {
    expect(splitShell(script)).toEqual(expected);
  });
});
