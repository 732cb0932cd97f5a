import { describe, expect, it } from 'vitest';
import { GatewayError } from './gateway-error';
import { OpenAiEndpoint, parseRequest } from './request-body';

const parse = (endpoint: OpenAiEndpoint, body: string) => parseRequest(endpoint, Buffer.from(body));

function failure(endpoint: OpenAiEndpoint, body: string): Pick<GatewayError, 'status' | 'code' | 'param'> {
  try {
    parse(endpoint, body);
  } catch (err) {
    const e = err as GatewayError;
    return { status: e.status, code: e.code, param: e.param };
  }
  throw new Error('expected a failure');
}

describe('parseRequest', () => {
  it.each([
    ['chat/completions', '{"model":', { status: 400, code: 'invalid_json', param: null }],
    ['chat/completions', '[1]', { status: 400, code: 'invalid_request', param: null }],
    [
      'chat/completions',
      '{"messages":[{"role":"user","content":"x"}]}',
      { status: 400, code: 'missing_required_parameter', param: 'model' },
    ],
    ['chat/completions', '{"model":3,"messages":[]}', { status: 400, code: 'invalid_type', param: 'model' }],
    [
      'chat/completions',
      '{"model":"m"}',
      { status: 400, code: 'missing_required_parameter', param: 'messages' },
    ],
    [
      'chat/completions',
      '{"model":"m","messages":[]}',
      { status: 400, code: 'invalid_type', param: 'messages' },
    ],
    [
      'chat/completions',
      '{"model":"m","messages":[{}],"stream":"yes"}',
      { status: 400, code: 'invalid_type', param: 'stream' },
    ],
    ['completions', '{"model":"m"}', { status: 400, code: 'missing_required_parameter', param: 'prompt' }],
    ['embeddings', '{"model":"m"}', { status: 400, code: 'missing_required_parameter', param: 'input' }],
  ] as const)('%s %s → %j', (endpoint, body, expected) => {
    expect(failure(endpoint, body)).toEqual(expected);
  });

  it('forwards the caller’s bytes untouched when nothing must be set', () => {
    const raw = Buffer.from(
      '{ "model" : "m", "messages":[{"role":"user","content":"hi"}], "temperature": 0.50 }',
    );
    const p = parseRequest('chat/completions', raw);
    expect(p).toMatchObject({ model: 'm', stream: false, clientWantsUsage: false });
    expect(p.upstreamBody).toBe(raw);
  });

  it('a stream with include_usage already set is forwarded untouched', () => {
    const raw = Buffer.from(
      '{"model":"m","prompt":"x","stream":true,"stream_options":{"include_usage":true}}',
    );
    const p = parseRequest('completions', raw);
    expect(p).toMatchObject({ stream: true, clientWantsUsage: true });
    expect(p.upstreamBody).toBe(raw);
  });

  it.each([
    [
      'no stream_options: inserted after the brace, the rest byte for byte',
      ' {"model":"m","prompt":"x","stream":true, "n": 1.0}',
    ],
    [
      'stream_options without include_usage: re-serialised',
      '{"model":"m","prompt":"x","stream":true,"stream_options":{"continuous_usage_stats":false}}',
    ],
    [
      'include_usage false: set to true',
      '{"model":"m","prompt":"x","stream":true,"stream_options":{"include_usage":false}}',
    ],
  ])('a stream asks upstream for usage: %s', (_, body) => {
    const p = parse('completions', body);
    expect(p).toMatchObject({ stream: true, clientWantsUsage: false });
    const sent = JSON.parse(p.upstreamBody.toString());
    expect(sent.stream_options.include_usage).toBe(true);
    const { stream_options: _so, ...rest } = sent;
    const { stream_options: _o, ...orig } = JSON.parse(body);
    expect(rest).toEqual(orig);
  });

  it('keeps the caller’s other bytes when inserting include_usage', () => {
    const p = parse(
      'chat/completions',
      '{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true, "temperature": 0.50}',
    );
    expect(p.upstreamBody.toString()).toBe(
      '{"stream_options":{"include_usage":true},"model":"m","messages":[{"role":"user","content":"x"}],"stream":true, "temperature": 0.50}',
    );
  });

  it.each([
    ['embeddings never stream', 'embeddings', '{"model":"m","input":"x","stream":true}', false],
    ['stream false', 'completions', '{"model":"m","prompt":"x","stream":false}', false],
  ] as const)('%s', (_, endpoint, body, stream) => {
    expect(parse(endpoint, body).stream).toBe(stream);
  });

  it('reads the user field for affinity', () => {
    expect(parse('completions', '{"model":"m","prompt":"x","user":"u1"}').user).toBe('u1');
    expect(parse('completions', '{"model":"m","prompt":"x","user":""}').user).toBeUndefined();
  });
});
