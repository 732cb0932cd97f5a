import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './prometheus-text';
import { engineLoadFromText } from './engine-load';

describe('parsePrometheusText', () => {
  it.each([
    ['plain sample', 'up 1', [{ name: 'up', labels: {}, value: 1 }]],
    [
      'colon names and labels',
      'vllm:num_requests_running{engine="0",model_name="llm"} 3',
      [{ name: 'vllm:num_requests_running', labels: { engine: '0', model_name: 'llm' }, value: 3 }],
    ],
    [
      'escaped label values',
      'x{path="a\\"b\\\\c\\nd"} 2.5',
      [{ name: 'x', labels: { path: 'a"b\\c\nd' }, value: 2.5 }],
    ],
    ['trailing comma in labels', 'x{a="1",} 7', [{ name: 'x', labels: { a: '1' }, value: 7 }]],
    ['timestamp', 'x 4 1700000000000', [{ name: 'x', labels: {}, value: 4 }]],
    ['exponent', 'x 1.5e-3', [{ name: 'x', labels: {}, value: 0.0015 }]],
    ['+Inf', 'x{le="+Inf"} +Inf', [{ name: 'x', labels: { le: '+Inf' }, value: Infinity }]],
    ['-Inf', 'x -Inf', [{ name: 'x', labels: {}, value: -Infinity }]],
    [
      'comments and blank lines',
      '# HELP x help\n# TYPE x gauge\n\nx 1\n',
      [{ name: 'x', labels: {}, value: 1 }],
    ],
    [
      'CRLF line ends',
      'x 1\r\ny 2\r\n',
      [
        { name: 'x', labels: {}, value: 1 },
        { name: 'y', labels: {}, value: 2 },
      ],
    ],
    ['unterminated label value is skipped', 'x{a="1} 2\ny 3', [{ name: 'y', labels: {}, value: 3 }]],
    ['non-numeric value is skipped', 'x abc\ny 3', [{ name: 'y', labels: {}, value: 3 }]],
    ['missing value is skipped', 'x{a="1"}\ny 3', [{ name: 'y', labels: {}, value: 3 }]],
    ['garbage is skipped', '{}} 1\n!!\ny 3', [{ name: 'y', labels: {}, value: 3 }]],
  ])('%s', (_, text, expected) => {
    expect(parsePrometheusText(text)).toEqual(expected);
  });

  it('reads NaN', () => {
    expect(parsePrometheusText('x NaN')[0].value).toBeNaN();
  });
});

const VLLM = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="llm"} 4.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="llm"} 2.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="llm"} 0.25
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="llm"} 1200.0
vllm:generation_tokens_total{engine="0",model_name="llm"} 800.0
`;

describe('engineLoadFromText (vLLM)', () => {
  it.each([
    [
      'one engine',
      VLLM,
      { running: 4, waiting: 2, kvCacheUsage: 0.25, promptTokensTotal: 1200, generationTokensTotal: 800 },
    ],
    [
      'two engine cores: counts summed, KV-cache averaged',
      'vllm:num_requests_running{engine="0"} 1\nvllm:num_requests_running{engine="1"} 2\n' +
        'vllm:num_requests_waiting{engine="0"} 0\nvllm:num_requests_waiting{engine="1"} 5\n' +
        'vllm:kv_cache_usage_perc{engine="0"} 0.2\nvllm:kv_cache_usage_perc{engine="1"} 0.6',
      { running: 3, waiting: 5, kvCacheUsage: 0.4 },
    ],
    [
      'older vLLM names the KV-cache gauge gpu_cache_usage_perc',
      'vllm:num_requests_running 1\nvllm:num_requests_waiting 0\nvllm:gpu_cache_usage_perc 0.5',
      { running: 1, waiting: 0, kvCacheUsage: 0.5 },
    ],
    ['a missing gauge is not zero load', 'vllm:num_requests_running 1\nvllm:kv_cache_usage_perc 0.5', null],
    ['not vLLM at all', 'process_cpu_seconds_total 3', null],
    ['empty body', '', null],
    [
      'NaN gauge',
      'vllm:num_requests_running NaN\nvllm:num_requests_waiting 0\nvllm:kv_cache_usage_perc 0',
      null,
    ],
    [
      'negative gauge',
      'vllm:num_requests_running -1\nvllm:num_requests_waiting 0\nvllm:kv_cache_usage_perc 0',
      null,
    ],
  ])('%s', (_, text, expected) => {
    const load = engineLoadFromText('vllm', text);
    if (expected === null) expect(load).toBeNull();
    else {
      expect(load).toMatchObject({ ...expected, kvCacheUsage: expect.closeTo(expected.kvCacheUsage, 9) });
    }
  });
});

const SGLANG = (labels: string, running: number, queued: number, usage: number): string =>
  [
    `sglang:num_running_reqs{${labels}} ${running}`,
    `sglang:num_queue_reqs{${labels}} ${queued}`,
    `sglang:token_usage{${labels}} ${usage}`,
  ].join('\n');

describe('engineLoadFromText (SGLang)', () => {
  const one = 'model_name="m",engine_type="unified",tp_rank="0",pp_rank="0"';
  it.each<[string, string, Record<string, number> | null]>([
    [
      'one scheduler, its request counters',
      `${SGLANG(one, 3, 5, 0.42)}\nsglang:prompt_tokens_total{model_name="m"} 900\nsglang:generation_tokens_total{model_name="m"} 300`,
      { running: 3, waiting: 5, kvCacheUsage: 0.42, promptTokensTotal: 900, generationTokensTotal: 300 },
    ],
    [
      'one replica reported by two pipeline ranks counts once (its largest)',
      `${SGLANG(one, 3, 5, 0.4)}\n${SGLANG('model_name="m",engine_type="unified",tp_rank="0",pp_rank="1"', 3, 0, 0.5)}`,
      { running: 3, waiting: 5, kvCacheUsage: 0.5 },
    ],
    [
      'data-parallel replicas are summed, KV-cache averaged',
      `${SGLANG('model_name="m",tp_rank="0",pp_rank="0",dp_rank="0"', 1, 2, 0.2)}\n${SGLANG('model_name="m",tp_rank="0",pp_rank="0",dp_rank="1"', 3, 4, 0.6)}`,
      { running: 4, waiting: 6, kvCacheUsage: 0.4 },
    ],
    ['vLLM names are not SGLang’s', VLLM, null],
    [
      'a missing queue gauge is not zero load',
      `sglang:num_running_reqs{${one}} 1\nsglang:token_usage{${one}} 0.1`,
      null,
    ],
    ['NaN gauge', SGLANG(one, Number.NaN, 0, 0), null],
  ])('%s', (_, text, expected) => {
    const load = engineLoadFromText('sglang', text);
    if (expected === null) expect(load).toBeNull();
    else expect(load).toEqual({ ...expected, kvCacheUsage: expect.closeTo(expected.kvCacheUsage, 9) });
  });

  it('SGLang names are not vLLM’s', () => {
    expect(engineLoadFromText('vllm', SGLANG(one, 1, 1, 0.1))).toBeNull();
  });
});
