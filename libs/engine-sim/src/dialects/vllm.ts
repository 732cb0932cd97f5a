// vLLM's OpenAI server (`vllm serve`): errors nested under `error`, an unknown model is a 404, the
// finish reason rides on a choice's last content chunk (with `stop_reason`), usage without reasoning
// tokens, metrics `vllm:*` labelled engine and model_name, `/ping` and `/version`.

import { randomUUID } from 'node:crypto';
import {
  ApiError,
  errorType,
  type ChoiceResult,
  type Dialect,
  type EngineView,
  type Finish,
  type ResponseState,
  type TokenUsage,
} from '../dialect';
import { Exposition, LATENCY_BUCKETS, TPOT_BUCKETS, TTFT_BUCKETS } from '../metrics';

/** Version reported by GET /version. */
export const SIMULATED_VLLM_VERSION = '0.11.0';

/** vLLM's error body: {"error": {"message", "type", "param", "code"}}. */
export function errorBody(status: number, message: string): string {
  return JSON.stringify({ error: { message, type: errorType(status), param: null, code: status } });
}

const hex = (): string => randomUUID().replace(/-/g, '');

function usage(u: TokenUsage): Record<string, unknown> {
  return {
    prompt_tokens: u.prompt,
    total_tokens: u.prompt + u.completion,
    completion_tokens: u.completion,
    prompt_tokens_details: null,
  };
}

function chunkPrefix(r: ResponseState): string {
  const object = r.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  return `data: {"id":"${r.id}","object":"${object}","created":${r.created},"model":${JSON.stringify(r.model)},"choices":[`;
}

export const VLLM_DIALECT: Dialect = {
  kind: 'vllm',
  ownedBy: 'vllm',
  buckets: { ttft: TTFT_BUCKETS, tpot: TPOT_BUCKETS, e2e: LATENCY_BUCKETS, queue: LATENCY_BUCKETS },
  streamOptionsNeedStream: true,
  errorBody,

  route(path: string, engine: EngineView) {
    if (path === '/ping') return { status: engine.healthy ? 200 : 503, body: '' };
    if (path === '/version')
      return { status: 200, body: JSON.stringify({ version: SIMULATED_VLLM_VERSION }) };
    return undefined;
  },

  responseModel(requested: string | undefined, engine: EngineView): string {
    if (requested === undefined) return engine.servedModelNames[0];
    if (!engine.servedModelNames.includes(requested))
      throw new ApiError(404, `The model \`${requested}\` does not exist.`);
    return requested;
  },

  defaultMaxTokens: (_kind, configured) => configured,

  contextError: (tokens, maxModelLen, noun) =>
    `This model's maximum context length is ${maxModelLen} tokens. However, your request has ` +
    `${tokens} input tokens. Please reduce the length of the input ${noun}.`,

  requestId: (kind) => `${kind === 'chat' ? 'chatcmpl' : kind === 'completion' ? 'cmpl' : 'embd'}-${hex()}`,

  modelsBody(engine: EngineView): string {
    const data = engine.servedModelNames.map((id) => ({
      id,
      object: 'model',
      created: engine.createdAt,
      owned_by: 'vllm',
      root: engine.model,
      parent: null,
      max_model_len: engine.maxModelLen,
      permission: [
        {
          id: `modelperm-${hex()}`,
          object: 'model_permission',
          created: engine.createdAt,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: '*',
          group: null,
          is_blocking: false,
        },
      ],
    }));
    return JSON.stringify({ object: 'list', data });
  },

  streamToken(r: ResponseState, choice: number, wordJson: string, finish: Finish | null): string {
    const prefix = chunkPrefix(r);
    let out = '';
    // vLLM sends the role of every choice with the first token of any of them.
    if (!r.roleSent.some(Boolean)) {
      r.roleSent.fill(true);
      if (r.kind === 'chat') {
        for (let i = 0; i < r.roleSent.length; i++) {
          out += `${prefix}{"index":${i},"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`;
        }
      }
    }
    const reason =
      finish === null ? '"finish_reason":null' : `"finish_reason":"${finish}","stop_reason":null`;
    if (r.kind === 'chat') {
      out += `${prefix}{"index":${choice},"delta":{"content":${wordJson}},"logprobs":null,${reason}}]}\n\n`;
    } else {
      out += `${prefix}{"index":${choice},"text":${wordJson},"logprobs":null,${reason}${finish === null ? ',"stop_reason":null' : ''}}]}\n\n`;
    }
    return out;
  },

  streamEnd(r: ResponseState, _finishes: Finish[], u: TokenUsage | null): string {
    const out = u ? `${chunkPrefix(r)}],"usage":${JSON.stringify(usage(u))}}\n\n` : '';
    return `${out}data: [DONE]\n\n`;
  },

  responseBody(r: ResponseState, choices: ChoiceResult[], u: TokenUsage): string {
    const body = choices.map((c, index) =>
      r.kind === 'chat'
        ? {
            index,
            message: { role: 'assistant', content: c.text, tool_calls: [] },
            logprobs: null,
            finish_reason: c.finish,
            stop_reason: null,
          }
        : {
            index,
            text: c.text,
            logprobs: null,
            finish_reason: c.finish,
            stop_reason: null,
            prompt_logprobs: null,
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
    });
  },

  embeddingsBody(id, created, model, data, u): string {
    const items = data.map((d) => ({ index: d.index, object: 'embedding', embedding: d.embedding }));
    return JSON.stringify({ id, object: 'list', created, model, data: items, usage: usage(u) });
  },

  metricsText(m, modelName): string {
    return (
      new Exposition({ engine: '0', model_name: modelName })
        .gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', m.running)
        .gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', m.waiting)
        .gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', m.kvCacheUsage)
        // vLLM v1's counters (v0.11): prompt tokens looked up in the prefix cache, and those found.
        .counter(
          'vllm:prefix_cache_queries_total',
          'Prefix cache queries, in terms of number of queried tokens.',
          [{ value: m.prefixCacheQueries }],
        )
        .counter('vllm:prefix_cache_hits_total', 'Prefix cache hits, in terms of number of cached tokens.', [
          { value: m.prefixCacheHits },
        ])
        .counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', [
          { value: m.promptTokens },
        ])
        .counter('vllm:generation_tokens_total', 'Number of generation tokens processed.', [
          { value: m.generationTokens },
        ])
        .counter(
          'vllm:request_success_total',
          'Count of successfully processed requests.',
          (['stop', 'length', 'abort'] as const).map((r) => ({
            labels: { finished_reason: r },
            value: m.success[r],
          })),
        )
        .histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', m.ttft)
        .histogram(
          'vllm:time_per_output_token_seconds',
          'Histogram of time per output token in seconds.',
          m.tpot,
        )
        .histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', m.e2e)
        .histogram(
          'vllm:request_queue_time_seconds',
          'Histogram of time spent in WAITING phase for request.',
          m.queueTime,
        )
        .text()
    );
  },
};
