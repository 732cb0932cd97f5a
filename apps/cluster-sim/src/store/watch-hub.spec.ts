import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../selectors/label-selector';
import type { KObject } from '../types/meta';
import type { StoreEvent } from './events';
import { project, type WatchFilter } from './watch-hub';

const obj = (labels: Record<string, string>): KObject => ({
  metadata: { name: 'p', namespace: 'default', labels },
});
const f: WatchFilter = {
  resource: 'pods',
  namespace: 'default',
  labels: parseLabelSelector('app=web'),
  fields: [],
};
const ev = (type: StoreEvent['type'], object: KObject, previous?: KObject): StoreEvent => ({
  type,
  resource: 'pods',
  object,
  previous,
  rv: 1,
});

describe('project', () => {
  it.each([
    ['ADDED matching', ev('ADDED', obj({ app: 'web' })), 'ADDED'],
    ['ADDED not matching', ev('ADDED', obj({ app: 'db' })), undefined],
    ['MODIFIED staying in', ev('MODIFIED', obj({ app: 'web', x: '1' }), obj({ app: 'web' })), 'MODIFIED'],
    ['MODIFIED leaving', ev('MODIFIED', obj({ app: 'db' }), obj({ app: 'web' })), 'DELETED'],
    ['MODIFIED entering', ev('MODIFIED', obj({ app: 'web' }), obj({ app: 'db' })), 'ADDED'],
    ['DELETED matching', ev('DELETED', obj({ app: 'web' }), obj({ app: 'web' })), 'DELETED'],
    [
      'other namespace',
      ev('ADDED', { metadata: { name: 'p', namespace: 'x', labels: { app: 'web' } } }),
      undefined,
    ],
  ])('%s', (_name, event, expected) => {
    expect(project(f, event)).toBe(expected);
  });
});
