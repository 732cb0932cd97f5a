import { describe, expect, it } from 'vitest';
import type { EngineKind } from '@troupe/lws';
import { parseEngineLoad } from './engine-metrics';

describe('parseEngineLoad', () => {
  it.each<[string, EngineKind, string, { waiting?: number; running?: number }]>([
    [
      'vLLM exposition',
      'vllm',
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
      'vLLM: summed over engines',
      'vllm',
      'vllm:num_requests_waiting{engine="0"} 1\nvllm:num_requests_waiting{engine="1"} 2\n',
      { waiting: 3 },
    ],
    ['without labels, with a timestamp', 'vllm', 'vllm:num_requests_waiting 4 1700000000000', { waiting: 4 }],
    [
      'a label value containing a brace',
      'vllm',
      'vllm:num_requests_waiting{model_name="a}b"} 2',
      { waiting: 2 },
    ],
    ['absent metrics', 'vllm', 'process_cpu_seconds_total 1', {}],
    ['garbage value', 'vllm', 'vllm:num_requests_waiting{} NaNx', {}],
    [
      'SGLang exposition: its queue gauge',
      'sglang',
      [
        '# TYPE sglang:num_queue_reqs gauge',
        'sglang:num_queue_reqs{model_name="m",engine_type="unified",tp_rank="0",pp_rank="0"} 5.0',
        'sglang:num_running_reqs{model_name="m",engine_type="unified",tp_rank="0",pp_rank="0"} 2.0',
        'sglang:num_grammar_queue_reqs{model_name="m"} 9.0',
      ].join('\n'),
      { waiting: 5, running: 2 },
    ],
    [
      'SGLang: one replica reported per pipeline rank counts once',
      'sglang',
      'sglang:num_queue_reqs{tp_rank="0",pp_rank="0"} 4\nsglang:num_queue_reqs{tp_rank="0",pp_rank="1"} 0\n',
      { waiting: 4 },
    ],
    [
      'SGLang: data-parallel replicas summed',
      'sglang',
      'sglang:num_queue_reqs{dp_rank="0"} 1\nsglang:num_queue_reqs{dp_rank="1"} 2\n',
      { waiting: 3 },
    ],
    ['SGLang reads none of vLLM’s names', 'sglang', 'vllm:num_requests_waiting 3', {}],
    ['vLLM reads none of SGLang’s names', 'vllm', 'sglang:num_queue_reqs 3', {}],
  ])('%s', (_, kind, text, expected) => {
    expect(parseEngineLoad(text, kind)).toEqual(expected);
  });
});
