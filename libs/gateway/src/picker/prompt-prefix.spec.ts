import { describe, expect, it } from 'vitest';
import { promptBlocks } from './prompt-prefix';

const system = 'You are a careful assistant. '.repeat(20);
const chat = (...messages: [string, string][]): Record<string, unknown> => ({
  messages: messages.map(([role, content]) => ({ role, content })),
});
const common = (a: number[], b: number[]): number => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

describe('promptBlocks', () => {
  it('requests sharing a system prompt share its blocks and no more', () => {
    const a = promptBlocks(chat(['system', system], ['user', 'first question here']), 16);
    const b = promptBlocks(chat(['system', system], ['user', 'an entirely different one']), 16);
    const shared = common(a, b);
    // The system message and its markers, cut into 16-character blocks, nothing after the first difference.
    expect(shared).toBe(
      Math.floor(('<|im_start|>system\n' + system + '<|im_end|>\n<|im_start|>user\n').length / 16),
    );
    expect(a.length).toBeGreaterThan(shared);
  });

  it('a conversation turn extends the previous prompt: all its blocks match', () => {
    const turn1 = chat(['system', system], ['user', 'hello']);
    const turn2 = chat(
      ['system', system],
      ['user', 'hello'],
      ['assistant', 'hi, how can I help'],
      ['user', 'more'],
    );
    const a = promptBlocks(turn1, 16);
    expect(common(a, promptBlocks(turn2, 16))).toBe(a.length);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, boolean]>([
    ['the role is part of the prefix', chat(['system', system]), chat(['user', system]), false],
    [
      'content parts read as their text',
      chat(['user', system]),
      { messages: [{ role: 'user', content: [{ type: 'text', text: system }] }] },
      true,
    ],
    ['completions: a string prompt', { prompt: system }, { prompt: [system, 'other'] }, true],
    ['token ids', { prompt: [1, 2, 3, 4, 5, 6, 7, 8] }, { prompt: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, true],
  ])('%s', (_, x, y, same) => {
    const a = promptBlocks(x, 16);
    expect(a.length).toBeGreaterThan(0);
    expect(promptBlocks(y, 16)[0] === a[0]).toBe(same);
  });

  it('nothing for short prompts and embeddings; bounded for long ones', () => {
    expect(promptBlocks({ prompt: 'short' }, 16)).toEqual([]);
    expect(promptBlocks({ input: system }, 16)).toEqual([]);
    expect(promptBlocks({ prompt: 'x'.repeat(10_000) }, 16, 8)).toHaveLength(8);
  });
});
