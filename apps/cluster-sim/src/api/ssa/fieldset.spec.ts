import { describe, expect, it } from 'vitest';
import { displayPath, fromFieldsV1, leafPaths, removePath, SEP, toFieldsV1, valueAt } from './fieldset';

const pod = {
  metadata: { labels: { app: 'a' } },
  spec: {
    containers: [
      { name: 'c1', image: 'i1', args: ['x', 'y'], env: [{ name: 'E', value: '1' }] },
      { name: 'c2', image: 'i2' },
    ],
    nodeSelector: {},
  },
};

describe('leafPaths', () => {
  it('walks maps, keyed lists and atomic lists', () => {
    const paths = [...leafPaths(pod).keys()].map(displayPathWithDot).sort();
    expect(paths).toEqual(
      [
        '.metadata.labels.app',
        '.spec.containers[name="c1"]',
        '.spec.containers[name="c1"].args',
        '.spec.containers[name="c1"].env[name="E"]',
        '.spec.containers[name="c1"].env[name="E"].name',
        '.spec.containers[name="c1"].env[name="E"].value',
        '.spec.containers[name="c1"].image',
        '.spec.containers[name="c1"].name',
        '.spec.containers[name="c2"]',
        '.spec.containers[name="c2"].image',
        '.spec.containers[name="c2"].name',
        '.spec.nodeSelector',
      ].sort(),
    );
  });

  it('round-trips through FieldsV1', () => {
    const set = new Set(leafPaths(pod).keys());
    const tree = toFieldsV1(set);
    expect(tree['f:spec']).toHaveProperty(['f:containers', 'k:{"name":"c1"}', '.']);
    expect(fromFieldsV1(tree)).toEqual(set);
  });
});

describe('valueAt / removePath', () => {
  const imagePath = ['f:spec', 'f:containers', 'k:{"name":"c2"}', 'f:image'].join(SEP);
  it('reads through keyed lists', () => {
    expect(valueAt(pod, imagePath)).toBe('i2');
    expect(valueAt(pod, ['f:spec', 'f:containers', 'k:{"name":"zz"}', 'f:image'].join(SEP))).toBeUndefined();
  });
  it('removes fields without touching the original', () => {
    const out = removePath(pod, imagePath) as typeof pod;
    expect(out.spec.containers[1]).toEqual({ name: 'c2' });
    expect(pod.spec.containers[1].image).toBe('i2');
  });
  it('removes list items and emptied maps', () => {
    const item = ['f:spec', 'f:containers', 'k:{"name":"c1"}', '.'].join(SEP);
    expect((removePath(pod, item) as typeof pod).spec.containers.map((c) => c.name)).toEqual(['c2']);
    const label = ['f:metadata', 'f:labels', 'f:app'].join(SEP);
    expect((removePath(pod, label) as Record<string, unknown>).metadata).toBeUndefined();
  });
});

function displayPathWithDot(p: string): string {
  return displayPath(p);
}
