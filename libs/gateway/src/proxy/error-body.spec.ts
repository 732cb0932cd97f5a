import { describe, expect, it } from 'vitest';
import { openAiErrorBody } from './error-body';

describe('openAiErrorBody', () => {
  it("nests SGLang's flat error as OpenAI clients read it", () => {
    const flat = { object: 'error', message: 'too long', type: 'BadRequestError', param: null, code: 400 };
    expect(JSON.parse(openAiErrorBody(Buffer.from(JSON.stringify(flat))).toString())).toEqual({
      error: { message: 'too long', type: 'BadRequestError', param: null, code: 400 },
    });
  });

  it.each([
    ['vLLM’s nested error', '{"error":{"message":"x","type":"BadRequestError","param":null,"code":400}}'],
    ['FastAPI’s detail', '{"detail":"Not Found"}'],
    ['not JSON', 'Internal Server Error'],
    ['a JSON array', '[1]'],
    ['an object called error without a message', '{"object":"error","code":500}'],
    ['empty', ''],
  ])('leaves %s as it is', (_what, text) => {
    const body = Buffer.from(text);
    expect(openAiErrorBody(body)).toBe(body);
  });
});
