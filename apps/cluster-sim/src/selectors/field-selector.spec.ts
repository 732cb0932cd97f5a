import { describe, expect, it } from 'vitest';
import { matchesFields, parseFieldSelector, unsupportedField } from './field-selector';

const pod = {
  metadata: { name: 'p', namespace: 'default' },
  spec: { nodeName: 'node-1' },
  status: { phase: 'Running' },
};

describe('field selectors', () => {
  it.each([
    ['metadata.name=p', true],
    ['metadata.name==p', true],
    ['metadata.name!=p', false],
    ['metadata.namespace=default,status.phase=Running', true],
    ['status.phase=Pending', false],
    ['spec.nodeName=node-1', true],
    ['spec.nodeName=', false],
    ['status.podIP=', true],
  ])('%s -> %s', (selector, expected) => {
    expect(matchesFields(parseFieldSelector(selector), pod)).toBe(expected);
  });

  it('reports unsupported fields', () => {
    expect(unsupportedField(parseFieldSelector('spec.foo=1'), ['metadata.name'])).toBe('spec.foo');
    expect(unsupportedField(parseFieldSelector('metadata.name=a'), ['metadata.name'])).toBeUndefined();
  });
});
