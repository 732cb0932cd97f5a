import { describe, expect, it } from 'vitest';
import { parseEngineLoad } from './engine-metrics';

describe('parseEngineLoad', () => {
  it.each([
    [
      'vLLM exposition',
      [
        '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
        '# TYPE vllm:num_requests_waiting gauge',
        'vllm:num_requests_waiting{engine="0",model_name="m"} 3.0',
        'vllm:num_requests_running{engine="0",model_name="m"} 7.0',
        'vllm:num_requests_waiting_by_reason{reason="x"} 99',
      ].join('\n'),
      { waiting: 3, running: 7 },
    ],
    [
      'summed over engines',
      'vllm:num_requests_waiting{engine="0"} 1\nvllm:num_requests_waiting{engine="1"} 2\n',
      { waiting: 3 },
    ],
    ['without labels, with a timestamp', 'vllm:num_requests_waiting 4 1700000000000', { waiting: 4 }],
    ['a label value containing a brace', 'vllm:num_requests_waiting{model_name="a}b"} 2', { waiting: 2 }],
    ['absent metrics', 'process_cpu_seconds_total 1', {}],
    ['garbage value', 'vllm:num_requests_waiting{} NaNx', {}],
  ])('%s', (_, text, expected) => {
    expect(parseEngineLoad(text)).toEqual(expected);
  });
});
