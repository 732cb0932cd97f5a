import { describe, expect, it } from 'vitest';
import { effectiveLimits, mergeLimits, parseStoredLimits, ProjectLimits } from './project-limits';

const unset: ProjectLimits = { requestsPerMinute: null, tokensPerMinute: null, concurrentStreams: null };
const defaults = { requestsPerMinute: 600, tokensPerMinute: 0, concurrentStreams: 8 };

describe('parseStoredLimits', () => {
  it.each([
    [null, unset],
    ['nonsense', unset],
    [[1, 2], unset],
    [{}, unset],
    [{ requestsPerMinute: 5 }, { ...unset, requestsPerMinute: 5 }],
    [
      { requestsPerMinute: 0, tokensPerMinute: 1000, concurrentStreams: null },
      { requestsPerMinute: 0, tokensPerMinute: 1000, concurrentStreams: null },
    ],
    [{ requestsPerMinute: -1, tokensPerMinute: 1.5, concurrentStreams: '3' }, unset],
  ])('%j -> %j', (json, expected) => {
    expect(parseStoredLimits(json)).toEqual(expected);
  });
});

describe('effectiveLimits', () => {
  it.each([
    ['no project row: defaults', null, defaults],
    ['unset fields: defaults', unset, defaults],
    [
      'set fields win, 0 (unlimited) included',
      { requestsPerMinute: 0, tokensPerMinute: 5000, concurrentStreams: null },
      { requestsPerMinute: 0, tokensPerMinute: 5000, concurrentStreams: 8 },
    ],
  ])('%s', (_, project, expected) => {
    expect(effectiveLimits(project, defaults)).toEqual(expected);
  });
});

describe('mergeLimits', () => {
  const current: ProjectLimits = { requestsPerMinute: 10, tokensPerMinute: 100, concurrentStreams: null };
  it.each([
    ['empty patch keeps everything', {}, current],
    ['a field replaces', { concurrentStreams: 2 }, { ...current, concurrentStreams: 2 }],
    ['null resets one field', { requestsPerMinute: null }, { ...current, requestsPerMinute: null }],
    ['null for the whole object resets all', null, unset],
  ])('%s', (_, patch, expected) => {
    expect(mergeLimits(current, patch)).toEqual(expected);
  });
});
