import { describe, expect, it } from 'vitest';
import { applyJsonPatch, JsonPatchError } from './json-patch';
import { mergePatch } from './merge-patch';
import { strategicMergePatch } from './strategic-merge';

describe('mergePatch', () => {
  it('merges maps, deletes nulls, replaces lists', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({
      a: { c: 2, d: 3 },
      l: [3],
    });
  });
});

describe('applyJsonPatch', () => {
  const doc = { spec: { replicas: 1, list: ['a', 'b'] } };
  it.each([
    [[{ op: 'replace', path: '/spec/replicas', value: 4 }], { spec: { replicas: 4, list: ['a', 'b'] } }],
    [[{ op: 'add', path: '/spec/list/-', value: 'c' }], { spec: { replicas: 1, list: ['a', 'b', 'c'] } }],
    [[{ op: 'add', path: '/spec/list/0', value: 'z' }], { spec: { replicas: 1, list: ['z', 'a', 'b'] } }],
    [[{ op: 'remove', path: '/spec/list/0' }], { spec: { replicas: 1, list: ['b'] } }],
    [[{ op: 'move', from: '/spec/replicas', path: '/spec/n' }], { spec: { n: 1, list: ['a', 'b'] } }],
    [
      [{ op: 'copy', from: '/spec/replicas', path: '/spec/n' }],
      { spec: { replicas: 1, n: 1, list: ['a', 'b'] } },
    ],
    [[{ op: 'test', path: '/spec/replicas', value: 1 }], doc],
    [[{ op: 'add', path: '/spec/a~1b', value: 1 }], { spec: { replicas: 1, list: ['a', 'b'], 'a/b': 1 } }],
  ])('%j', (ops, expected) => {
    expect(applyJsonPatch(doc, ops)).toEqual(expected);
    expect(doc.spec.replicas).toBe(1);
  });

  it.each([
    [[{ op: 'test', path: '/spec/replicas', value: 2 }]],
    [[{ op: 'remove', path: '/spec/missing' }]],
    [[{ op: 'replace', path: '/spec/missing', value: 1 }]],
    [[{ op: 'bogus', path: '/spec' }]],
  ])('rejects %j', (ops) => {
    expect(() => applyJsonPatch(doc, ops)).toThrow(JsonPatchError);
  });
});

describe('strategicMergePatch', () => {
  const pod = {
    spec: {
      containers: [
        { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }] },
        { name: 'b', image: 'b:1' },
      ],
      tolerations: [{ key: 't' }],
    },
    metadata: { finalizers: ['f1'] },
  };
  it('merges containers and env by name', () => {
    const out = strategicMergePatch(pod, {
      spec: {
        containers: [
          { name: 'a', env: [{ name: 'Y', value: '2' }] },
          { name: 'c', image: 'c:1' },
        ],
      },
    }) as typeof pod;
    expect(out.spec.containers.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(out.spec.containers[0].env).toEqual([
      { name: 'X', value: '1' },
      { name: 'Y', value: '2' },
    ]);
    expect(out.spec.containers[0].image).toBe('a:1');
  });
  it('handles $patch delete, $setElementOrder and primitive merge lists', () => {
    const out = strategicMergePatch(pod, {
      spec: {
        $setElementOrder_ignored: 1,
        '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
        containers: [{ name: 'b', $patch: 'delete' }],
        tolerations: [{ key: 'u' }],
      },
      metadata: { finalizers: ['f2'] },
    }) as typeof pod;
    expect(out.spec.containers.map((c) => c.name)).toEqual(['a']);
    expect(out.spec.tolerations).toEqual([{ key: 'u' }]);
    expect(out.metadata.finalizers).toEqual(['f1', 'f2']);
  });
});
