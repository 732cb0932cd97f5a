import { describe, expect, it } from 'vitest';
import type { Pod, PodRef } from '@troupe/kubelet';
import { composeStatus, PodWriter, type PodApi } from './pod-writer';

const ref: PodRef = { namespace: 'ns', name: 'p', uid: 'u1' };

function httpError(statusCode: number): Error {
  return Object.assign(new Error(`HTTP ${statusCode}`), { statusCode });
}

/** A pod store with optimistic concurrency, and failures to inject. */
class FakeApi implements PodApi {
  pod: Pod | undefined = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: '1' },
    spec: { containers: [] },
  };
  calls: string[] = [];
  failNext: Error[] = [];
  /** Writes that land in between our GET and PUT (another writer). */
  interfere = 0;

  async get(): Promise<Pod | undefined> {
    this.calls.push('get');
    const f = this.failNext.shift();
    if (f) throw f;
    const got = this.pod && structuredClone(this.pod);
    if (this.interfere > 0 && this.pod) {
      this.interfere--;
      this.pod = {
        ...this.pod,
        metadata: {
          ...this.pod.metadata,
          resourceVersion: String(Number(this.pod.metadata.resourceVersion) + 1),
        },
      };
    }
    return got;
  }
  async putStatus(pod: Pod): Promise<void> {
    this.calls.push(`put ${pod.status?.phase ?? ''} ${pod.status?.message ?? ''}`.trim());
    if (!this.pod) throw httpError(404);
    if (pod.metadata.resourceVersion !== this.pod.metadata.resourceVersion) throw httpError(409);
    this.pod = {
      ...pod,
      metadata: { ...pod.metadata, resourceVersion: String(Number(pod.metadata.resourceVersion) + 1) },
    };
  }
  async delete(r: PodRef): Promise<void> {
    this.calls.push(`delete ${r.uid}`);
    const f = this.failNext.shift();
    if (f) throw f;
    this.pod = undefined;
  }
}

const fast = { backoff: { initialMs: 1, maxMs: 2 } };

describe('composeStatus', () => {
  it('applies updates in turn, each seeing the status the previous one made', () => {
    const pod: Pod = { metadata: {}, spec: { containers: [] }, status: { phase: 'Pending' } };
    const s = composeStatus(pod, [
      (_p, st) => ({ ...st, message: `was ${st.phase}` }),
      (p, st) => ({ ...st, phase: 'Running', reason: `${p.status?.message}` }),
    ]);
    expect(s).toEqual({ phase: 'Running', message: 'was Pending', reason: 'was Pending' });
  });
});

describe('PodWriter', () => {
  it('coalesces writes waiting together into one read-modify-write, in order', async () => {
    const api = new FakeApi();
    const w = new PodWriter(api, fast);
    w.writeStatus(ref, (_p, s) => ({ ...s, phase: 'Pending' }));
    w.writeStatus(ref, (_p, s) => ({ ...s, message: `after ${s.phase}` }));
    w.writeStatus(ref, (_p, s) => ({ ...s, phase: 'Running' }));
    await w.flushed();
    expect(api.pod?.status).toEqual({ phase: 'Running', message: 'after Pending' });
    expect(api.calls.filter((c) => c.startsWith('put')).length).toBeLessThanOrEqual(2);
  });

  it('reads again and retries on 409, and while the API is unreachable', async () => {
    const api = new FakeApi();
    api.interfere = 2;
    api.failNext = [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })];
    const w = new PodWriter(api, fast);
    w.writeStatus(ref, (_p, s) => ({ ...s, phase: 'Running' }));
    await w.flushed();
    expect(api.pod?.status?.phase).toBe('Running');
    expect(api.calls.filter((c) => c === 'get').length).toBe(4);
  });

  it('drops writes for a pod that is gone or is another pod by now', async () => {
    const api = new FakeApi();
    const w = new PodWriter(api, fast);
    w.writeStatus({ ...ref, uid: 'older' }, (_p, s) => ({ ...s, phase: 'Failed' }));
    await w.flushed();
    expect(api.calls).toEqual(['get']);
    api.pod = undefined;
    w.writeStatus(ref, (_p, s) => ({ ...s, phase: 'Failed' }));
    await w.flushed();
    expect(w.pending).toBe(0);
  });

  it('confirms a deletion after the status writes queued before it; 404 / 409 mean done', async () => {
    const api = new FakeApi();
    const w = new PodWriter(api, fast);
    w.writeStatus(ref, (_p, s) => ({ ...s, phase: 'Succeeded' }));
    w.confirmDeletion(ref);
    w.writeStatus(ref, (_p, s) => ({ ...s, phase: 'Running' }));
    await w.flushed();
    expect(api.calls).toEqual(['get', 'put Succeeded', 'delete u1']);
    const again = new FakeApi();
    again.failNext = [httpError(409)];
    const w2 = new PodWriter(again, fast);
    w2.confirmDeletion(ref);
    await w2.flushed();
    expect(again.calls).toEqual(['delete u1']);
  });

  it('gives up on a write the API refuses (422) without blocking the next ones', async () => {
    const api = new FakeApi();
    const logs: string[] = [];
    const w = new PodWriter(api, { ...fast, log: (m) => logs.push(m) });
    api.failNext = [httpError(422)];
    w.writeStatus(ref, (_p, s) => ({ ...s, phase: 'Unknown' }));
    w.writeStatus(ref, (_p, s) => ({ ...s, phase: 'Running' }));
    await w.flushed();
    expect(logs[0]).toMatch(/dropped/);
    expect(api.pod?.status?.phase).toBe('Running');
  });
});
