import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors';
import type { KObject } from '../../types/meta';
import { serverSideApply } from './apply';

const base = { apiVersion: 'v1', time: '2025-01-01T00:00:00Z', hasStatusSubresource: true };

function apply(live: KObject | undefined, applied: KObject, manager: string, force = false): KObject {
  return serverSideApply({ ...base, live, applied, manager, force }).object;
}

const cm = (data: Record<string, unknown>, labels?: Record<string, string>): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', ...(labels ? { labels } : {}) },
  data,
});

describe('serverSideApply', () => {
  it('records ownership per manager', () => {
    const o = apply(undefined, cm({ a: '1' }), 'm1');
    expect(o.data).toEqual({ a: '1' });
    expect(o.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'm1', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {} } } }),
    ]);
  });

  it('conflicts when another manager owns a field with a different value', () => {
    const o = apply(undefined, cm({ a: '1' }), 'm1');
    let err: unknown;
    try {
      apply(o, cm({ a: '2' }), 'm2');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    const status = (err as ApiError).toStatus();
    expect(status.code).toBe(409);
    expect(status.message).toBe('Apply failed with 1 conflict: conflict with "m1": .data.a');
    expect(status.details?.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "m1"', field: '.data.a' },
    ]);
  });

  it('shares ownership of equal values and transfers it on force', () => {
    const o1 = apply(undefined, cm({ a: '1' }), 'm1');
    const o2 = apply(o1, cm({ a: '1', b: '2' }), 'm2');
    expect(o2.metadata.managedFields?.map((m) => m.manager)).toEqual(['m1', 'm2']);
    const o3 = apply(o2, cm({ a: '3' }), 'm2', true);
    expect(o3.data).toEqual({ a: '3' });
    expect(o3.metadata.managedFields?.map((m) => m.manager)).toEqual(['m2']);
  });

  it('removes fields a manager stops applying unless another manager owns them', () => {
    const o1 = apply(undefined, cm({ a: '1', b: '2' }, { x: 'y' }), 'm1');
    const o2 = apply(o1, cm({ b: '2' }), 'm2');
    const o3 = apply(o2, cm({}), 'm1');
    expect(o3.data).toEqual({ b: '2' });
    expect(o3.metadata.labels).toBeUndefined();
  });

  it('merges named lists by key', () => {
    const pod = (containers: unknown[]): KObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers },
    });
    const o1 = apply(undefined, pod([{ name: 'a', image: 'a:1' }]), 'm1');
    const o2 = apply(o1, pod([{ name: 'b', image: 'b:1' }]), 'm2');
    expect((o2.spec as { containers: unknown[] }).containers).toEqual([
      { name: 'a', image: 'a:1' },
      { name: 'b', image: 'b:1' },
    ]);
    const o3 = apply(o2, pod([]), 'm1');
    expect((o3.spec as { containers: unknown[] }).containers).toEqual([{ name: 'b', image: 'b:1' }]);
  });
});

describe('serverSideApply with keyed lists owned by two managers', () => {
  it('conflicts only on differing leaf values', () => {
    const pod = (image: string, replicas: number): KObject => ({
      apiVersion: 'v1',
      kind: 'X',
      metadata: { name: 'p' },
      spec: { replicas, containers: [{ name: 'a', image }] },
    });
    const o1 = apply(undefined, pod('a:1', 3), 'm1');
    expect(() => apply(o1, pod('a:1', 2), 'm2')).toThrow(
      'Apply failed with 1 conflict: conflict with "m1": .spec.replicas',
    );
  });
});
