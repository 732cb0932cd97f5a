// SGLang's OpenAI-compatible server (`python3 -m sglang.launch_server`), as its sources word it:
// - errors are a flat `{"object":"error","message","type","param","code"}` (protocol.py ErrorResponse);
// - the `model` of a request is echoed back, not checked (default `default`);
// - chat without max_tokens generates up to the context length; completions default to 16;
// - stream chunks carry `matched_stop`; a chat choice's finish reason comes in a chunk of its own, with
//   an empty delta, after its content (serving_chat.py); the usage chunk has `"choices":[]`;
// - usage adds `reasoning_tokens`; responses end with `"metadata":null`; ids are `chatcmpl-<uuid>`;
// - `/health`, `/health_generate`, `/get_model_info` (and `/model_info`); `/metrics` only with
//   `--enable-metrics`, scheduler gauges labelled model_name, engine_type, tp_rank, pp_rank
//   (metrics/collector.py, managers/scheduler_metrics_mixin.py), request metrics labelled model_name.

import { randomUUID } from 'node:crypto';
import {
  errorType,
  type ChoiceResult,
  type Dialect,
  type EngineView,
  type Finish,
  type ResponseState,
  type TokenUsage,
} from '../dialect';
import { Exposition } from '../metrics';

/** The token id a simulated EOS matches (SGLang reports the matched stop token in `matched_stop`). */
export const SIMULATED_EOS_TOKEN_ID = 2;

/** SGLang's default buckets (TokenizerMetricsCollector). */
export const SGLANG_TTFT_BUCKETS = [
  0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400,
];
export const SGLANG_ITL_BUCKETS = [
  0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6,
  0.8, 1, 2, 4, 6, 8,
];
export const SGLANG_E2E_BUCKETS = [
  0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400,
];

function usage(u: TokenUsage): Record<string, unknown> {
  return {
    prompt_tokens: u.prompt,
    total_tokens: u.prompt + u.completion,
    completion_tokens: u.completion,
    prompt_tokens_details: null,
    reasoning_tokens: 0,
  };
}

const matchedStop = (f: Finish): number | null => (f === 'stop' ? SIMULATED_EOS_TOKEN_ID : null);

function envelope(r: ResponseState): string {
  const object = r.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  return `{"id":"${r.id}","object":"${object}","created":${r.created},"model":${JSON.stringify(r.model)}`;
}

export const SGLANG_DIALECT: Dialect = {
  kind: 'sglang',
  ownedBy: 'sglang',
  buckets: {
    ttft: SGLANG_TTFT_BUCKETS,
    tpot: SGLANG_ITL_BUCKETS,
    e2e: SGLANG_E2E_BUCKETS,
    queue: SGLANG_E2E_BUCKETS,
  },
  streamOptionsNeedStream: false,

  errorBody: (status, message) =>
    JSON.stringify({ object: 'error', message, type: errorType(status), param: null, code: status }),

  route(path: string, engine: EngineView) {
    if (path === '/health_generate') return { status: engine.healthy ? 200 : 503, body: '' };
    if (path === '/get_model_info' || path === '/model_info') {
      return {
        status: 200,
        body: JSON.stringify({
          model_path: engine.model,
          tokenizer_path: engine.model,
          is_generation: true,
          preferred_sampling_params: null,
          weight_version: 'default',
          has_image_understanding: false,
          has_audio_understanding: false,
        }),
      };
    }
    return undefined;
  },

  responseModel: (requested) => requested ?? 'default',

  defaultMaxTokens: (kind) => (kind === 'chat' ? undefined : 16),

  contextError: (tokens, maxModelLen) =>
    `The input (${tokens} tokens) is longer than the model's context length (${maxModelLen} tokens).`,

  requestId: (kind) =>
    `${kind === 'chat' ? 'chatcmpl' : kind === 'completion' ? 'cmpl' : 'embd'}-${randomUUID()}`,

  modelsBody(engine: EngineView): string {
    const data = engine.servedModelNames.map((id) => ({
      id,
      object: 'model',
      created: engine.createdAt,
      owned_by: 'sglang',
      root: id,
      parent: null,
      max_model_len: engine.maxModelLen,
    }));
    return JSON.stringify({ object: 'list', data });
  },

  streamToken(r: ResponseState, choice: number, wordJson: string, finish: Finish | null): string {
    const head = envelope(r);
    if (r.kind === 'completion') {
      const reason = finish === null ? 'null' : `"${finish}"`;
      const stop = finish === null ? 'null' : JSON.stringify(matchedStop(finish));
      return `data: ${head},"choices":[{"index":${choice},"text":${wordJson},"logprobs":null,"finish_reason":${reason},"matched_stop":${stop}}],"usage":null}\n\n`;
    }
    let out = '';
    if (!r.roleSent[choice]) {
      r.roleSent[choice] = true;
      out += `data: ${head},"choices":[{"index":${choice},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null,"matched_stop":null}]}\n\n`;
    }
    out += `data: ${head},"choices":[{"index":${choice},"delta":{"content":${wordJson}},"logprobs":null,"finish_reason":null,"matched_stop":null}]}\n\n`;
    return out;
  },

  streamEnd(r: ResponseState, finishes: Finish[], u: TokenUsage | null): string {
    const head = envelope(r);
    let out = '';
    if (r.kind === 'chat') {
      finishes.forEach((f, index) => {
        out += `data: ${head},"choices":[{"index":${index},"delta":{},"logprobs":null,"finish_reason":"${f}","matched_stop":${JSON.stringify(matchedStop(f))}}]}\n\n`;
      });
    }
    if (u) out += `data: ${head},"choices":[],"usage":${JSON.stringify(usage(u))}}\n\n`;
    return `${out}data: [DONE]\n\n`;
  },

  responseBody(r: ResponseState, choices: ChoiceResult[], u: TokenUsage): string {
    const body = choices.map((c, index) =>
      r.kind === 'chat'
        ? {
            index,
            message: { role: 'assistant', content: c.text, reasoning_content: null, tool_calls: null },
            logprobs: null,
            finish_reason: c.finish,
            matched_stop: matchedStop(c.finish),
          }
        : {
            index,
            text: c.text,
            logprobs: null,
            finish_reason: c.finish,
            matched_stop: matchedStop(c.finish),
          },
    );
    const object = r.kind === 'chat' ? 'chat.completion' : 'text_completion';
    return JSON.stringify({
      id: r.id,
      object,
      created: r.created,
      model: r.model,
      choices: body,
      usage: usage(u),
      metadata: null,
    });
  },

  embeddingsBody(_id, _created, model, data, u): string {
    const items = data.map((d) => ({ embedding: d.embedding, index: d.index, object: 'embedding' }));
    return JSON.stringify({ data: items, model, object: 'list', usage: usage(u) });
  },

  metricsText(m, modelName): string {
    const scheduler = new Exposition({
      model_name: modelName,
      engine_type: 'unified',
      tp_rank: '0',
      pp_rank: '0',
    })
      .gauge('sglang:num_running_reqs', 'The number of running requests.', m.running)
      .gauge('sglang:num_used_tokens', 'The number of used tokens.', m.kvTokens)
      .gauge('sglang:token_usage', 'The token usage.', m.kvCacheUsage)
      .gauge('sglang:gen_throughput', 'The generation throughput (token/s).', m.genThroughput)
      .gauge('sglang:num_queue_reqs', 'The number of requests in the waiting queue.', m.waiting)
      // SGLang reports the radix cache's hit rate as a gauge; here over the engine's lifetime.
      .gauge(
        'sglang:cache_hit_rate',
        'The prefix cache hit rate.',
        m.prefixCacheQueries > 0 ? m.prefixCacheHits / m.prefixCacheQueries : 0,
      )
      .gauge(
        'sglang:max_total_num_tokens',
        'Maximum total number of tokens in the KV cache pool.',
        m.kvCacheTokens,
      )
      .text();
    const tokenizer = new Exposition({ model_name: modelName })
      .counter('sglang:prompt_tokens_total', 'Number of prefill tokens processed.', [
        { value: m.promptTokens },
      ])
      .counter('sglang:generation_tokens_total', 'Number of generation tokens processed.', [
        { value: m.generationTokens },
      ])
      .counter('sglang:num_requests_total', 'Number of requests processed.', [
        { value: m.success.stop + m.success.length },
      ])
      .counter('sglang:num_aborted_requests_total', 'Number of requests aborted.', [
        { value: m.requestsAborted },
      ])
      .histogram('sglang:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', m.ttft)
      .histogram('sglang:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', m.tpot)
      .histogram(
        'sglang:e2e_request_latency_seconds',
        'Histogram of End-to-end request latency in seconds',
        m.e2e,
      )
      .text();
    return scheduler + tokenizer;
  },
};
