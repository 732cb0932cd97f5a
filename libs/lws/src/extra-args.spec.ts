import { describe, expect, it } from 'vitest';
import { validateExtraArgs } from './extra-args';

describe('validateExtraArgs', () => {
  const fine: [string, string[]][] = [
    ['nothing', []],
    ['a boolean flag', ['--enforce-eager']],
    ['flag and value', ['--max-num-batched-tokens', '8192']],
    ['flag=value', ['--kv-cache-dtype=fp8']],
    [
      '--enable-/--no- flags',
      ['--enable-prefix-caching', '--no-enable-chunked-prefill', '--trust-remote-code'],
    ],
    ['negative number value', ['--seed', '-1']],
    ['JSON value', ['--override-generation-config', '{"temperature": 0.5}']],
    ['load format when the platform does not stream', ['--load-format', 'safetensors']],
    ['a longer flag sharing a prefix', ['--model-impl', 'vllm', '--portal', 'x']],
    ['data-parallel flags other than the size', ['--data-parallel-backend', 'ray']],
  ];
  it.each(fine)('accepts %s', (_name, args) => {
    expect(validateExtraArgs(args)).toEqual([]);
  });

  const owned: [string[], string][] = [
    [['--tensor-parallel-size', '4'], '--tensor-parallel-size'],
    [['--tensor-parallel-size=4'], '--tensor-parallel-size'],
    [['--tensor_parallel_size', '4'], '--tensor_parallel_size'],
    [['--tensor-parallel', '4'], '--tensor-parallel'],
    [['-tp', '4'], '-tp'],
    [['-tp=4'], '-tp'],
    [['-tp4'], '-tp4'],
    [['--pipeline-parallel-size', '2'], '--pipeline-parallel-size'],
    [['--pipeline-parallel-size=2'], '--pipeline-parallel-size'],
    [['-pp', '2'], '-pp'],
    [['--port', '9000'], '--port'],
    [['--port=9000'], '--port'],
    [['--served-model-name', 'x'], '--served-model-name'],
    [['--served-model-name=x'], '--served-model-name'],
    [['--model', '/m'], '--model'],
    [['--model=/m'], '--model'],
    [['--host', '0.0.0.0'], '--host'],
    [['--host=::'], '--host'],
    [['--distributed-executor-backend', 'mp'], '--distributed-executor-backend'],
    [['--distributed-executor-backend=mp'], '--distributed-executor-backend'],
    [['--data-parallel-size', '2'], '--data-parallel-size'],
    [['--config', 'c.yaml'], '--config'],
  ];
  it.each(owned)('refuses %j', (args, flag) => {
    const issues = validateExtraArgs(['--enforce-eager', ...args]);
    expect(issues).toHaveLength(1); // the flag's value is not reported as a positional argument too
    expect(issues[0]).toEqual({
      field: 'engine.extraArgs[1]',
      message: expect.stringContaining(`${flag} is set by the platform`),
    });
  });

  const positional: [string, string[], number][] = [
    ['a model path', ['/models/other'], 0],
    ['a hub id', ['meta-llama/Llama-3.1-8B'], 0],
    ['a path after a boolean flag', ['--enforce-eager', '/models/x'], 1],
    ['a second value', ['--dtype', 'half', 'extra'], 2],
    ['anything after --', ['--', 'x'], 1],
  ];
  it.each(positional)('refuses %s', (_name, args, index) => {
    const issues = validateExtraArgs(args);
    expect(issues).toEqual([
      { field: `engine.extraArgs[${index}]`, message: expect.stringMatching(/positional/) },
    ]);
  });

  it('takes more owned flags (e.g. --load-format when streaming) and a field prefix', () => {
    const opts = { extraOwnedFlags: [{ names: ['--load-format'], why: 'streamed' }], field: 'extraArgs' };
    expect(validateExtraArgs(['--load-format', 'dummy'], opts)).toEqual([
      { field: 'extraArgs[0]', message: '--load-format is set by the platform: streamed' },
    ]);
    expect(validateExtraArgs(['--load-format=dummy'], opts)).toHaveLength(1);
  });

  it('refuses NUL characters and non-strings', () => {
    expect(validateExtraArgs(['--x', 'a\0b'])).toHaveLength(1);
    expect(validateExtraArgs([1 as unknown as string])).toEqual([
      { field: 'engine.extraArgs[0]', message: 'must be a string' },
    ]);
  });
});

describe('validateExtraArgs for SGLang', () => {
  const sglang = (args: string[]) => validateExtraArgs(args, { engine: 'sglang' });

  it.each<[string, string[]]>([
    ['nothing', []],
    ['store_true flags', ['--trust-remote-code', '--enable-torch-compile', '--disable-radix-cache']],
    ['flag and value', ['--chunked-prefill-size', '4096']],
    ['flag=value', ['--kv-cache-dtype=fp8_e5m2']],
    ['a boolean flag then a valued one', ['--skip-server-warmup', '--schedule-policy', 'lpm']],
    ['pipeline flags other than the size', ['--pp-max-micro-batch-size', '8']],
    ['rendezvous flags the platform leaves alone', ['--dist-timeout', '600', '--nccl-port', '31000']],
    ['vLLM-only names SGLang does not know as the platform’s', ['--distributed-executor-backend', 'mp']],
  ])('accepts %s', (_name, args) => {
    expect(sglang(args)).toEqual([]);
  });

  it.each<[string[], string]>([
    [['--model-path', '/m'], '--model-path'],
    [['--model', '/m'], '--model'],
    [['--tp', '4'], '--tp'],
    [['--tp-size=4'], '--tp-size'],
    [['--tensor-parallel-size', '4'], '--tensor-parallel-size'],
    [['--pp-size', '2'], '--pp-size'],
    [['--pipeline-parallel-size=2'], '--pipeline-parallel-size'],
    [['--dp-size', '2'], '--dp-size'],
    [['--nnodes', '4'], '--nnodes'],
    [['--node-rank', '1'], '--node-rank'],
    [['--dist-init-addr', '10.0.0.1:5000'], '--dist-init-addr'],
    [['--nccl-init-addr=10.0.0.1:5000'], '--nccl-init-addr'],
    [['--port', '9000'], '--port'],
    [['--host', '::'], '--host'],
    [['--served-model-name', 'x'], '--served-model-name'],
    [['--config', 'c.yaml'], '--config'],
  ])('refuses %j, naming the flag', (args, flag) => {
    const issues = sglang(['--trust-remote-code', ...args]);
    expect(issues).toEqual([
      { field: 'engine.extraArgs[1]', message: expect.stringContaining(`${flag} is set by the platform`) },
    ]);
  });

  it('refuses every owned flag of the list at once, each by its index', () => {
    const issues = sglang(['--tp', '2', '--log-requests', '--nnodes=3', '--node-rank', '$(X)']);
    expect(issues.map((i) => i.field)).toEqual([
      'engine.extraArgs[0]',
      'engine.extraArgs[3]',
      'engine.extraArgs[4]',
    ]);
  });

  it("takes vLLM's short -tp for an unknown flag with a value (SGLang has no short flags)", () => {
    expect(sglang(['-tp', '4'])).toEqual([]);
  });
});
