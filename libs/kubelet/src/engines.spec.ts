import { describe, expect, it } from 'vitest';
import { expandVars, vllmOf } from './engines';

describe('expandVars', () => {
  it.each([
    ['--size=$(LWS_GROUP_SIZE)', '--size=4'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(LWS_GROUP_SIZE)', '$(LWS_GROUP_SIZE)'],
  ])('%s', (input, expected) => {
    expect(expandVars(input, { LWS_GROUP_SIZE: '4' })).toBe(expected);
  });
});

describe('vllmOf', () => {
  it('finds vllm serve inside sh -c with env references', () => {
    const cmd = vllmOf({
      name: 'vllm',
      image: 'vllm/vllm-openai',
      command: ['sh', '-c'],
      args: ['ray start --head && vllm serve meta/llama --port $(PORT) --served-model-name llama'],
      env: [{ name: 'PORT', value: '8080' }],
    });
    expect(cmd).toMatchObject({ model: 'meta/llama', port: 8080, servedModelNames: ['llama'] });
  });

  it('ignores other containers', () => {
    expect(vllmOf({ name: 'nginx', image: 'nginx', command: ['nginx'] })).toBeNull();
  });
});
