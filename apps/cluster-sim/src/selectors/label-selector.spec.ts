import { describe, expect, it } from 'vitest';
import {
  formatRequirements,
  fromLabelSelector,
  matchesLabels,
  parseLabelSelector,
  SelectorParseError,
} from './label-selector';

const labels = { app: 'web', tier: 'front', 'leaderworkerset.sigs.k8s.io/name': 'x', n: '5' };

describe('parseLabelSelector + matchesLabels', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=api', false],
    ['app!=api', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (api, web)', true],
    ['app in (api)', false],
    ['app notin (api,db)', true],
    ['app notin (web)', false],
    ['missing notin (web)', true],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['app in (web,api),!missing,tier', true],
    ['leaderworkerset.sigs.k8s.io/name=x', true],
    ['n>4', true],
    ['n<4', false],
  ])('%s -> %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it.each(['app=web,', 'a b c', 'app in (web', '=x', 'app=in valid', 'n>x'])('rejects %s', (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow(SelectorParseError);
  });

  it('formats requirements canonically', () => {
    expect(formatRequirements(parseLabelSelector('a=b,c!=d,e in (f,g),!h,i'))).toBe(
      'a=b,c!=d,e in (f,g),!h,i',
    );
  });
});

describe('fromLabelSelector', () => {
  it('combines matchLabels and matchExpressions', () => {
    const reqs = fromLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['front'] },
        { key: 'gone', operator: 'DoesNotExist' },
        { key: 'app', operator: 'Exists' },
      ],
    });
    expect(matchesLabels(reqs, labels)).toBe(true);
    expect(matchesLabels(reqs, { app: 'web', tier: 'back' })).toBe(false);
  });

  it('selects everything when absent', () => {
    expect(matchesLabels(fromLabelSelector(undefined), {})).toBe(true);
  });
});
