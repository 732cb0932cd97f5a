import { describe, expect, it } from 'vitest';
import { handleAdmin, type AdminDeps } from './admin-api';
import type { Kubelet } from './kubelet';

/** A kubelet that knows one running pod `default/p` with an engine, and node `n`. */
function deps(calls: string[]): AdminDeps {
  const kubelet = {
    engines: () => [{ pod: 'p' }],
    failPod: (ns: string, name: string, reason: string, message: string) => {
      calls.push(`fail ${ns}/${name} ${reason} ${message}`);
      return name === 'p';
    },
    restartContainer: (ns: string, name: string, container?: string) => {
      calls.push(`restart ${ns}/${name} ${container ?? '*'}`);
      return name === 'p';
    },
    setNodeDown: (name: string, down: boolean) => {
      calls.push(`node ${name} ${down ? 'down' : 'up'}`);
      return name === 'n';
    },
    setEngineFaults: (ns: string, name: string, faults: unknown) => {
      calls.push(`faults ${ns}/${name} ${JSON.stringify(faults)}`);
      return name === 'p';
    },
  } as unknown as Kubelet;
  return { kubelet, summary: () => ({ nodes: [] }) };
}

const call = (d: AdminDeps, method: string, path: string, body = '') =>
  handleAdmin(d, method, path, () => Promise.resolve(body));

describe('handleAdmin', () => {
  it('routes the fault endpoints to the kubelet with the body fields', async () => {
    const calls: string[] = [];
    const d = deps(calls);
    expect(await call(d, 'GET', '/sim')).toEqual({ status: 200, body: { nodes: [] } });
    expect(await call(d, 'GET', '/sim/engines')).toEqual({ status: 200, body: { items: [{ pod: 'p' }] } });
    expect((await call(d, 'POST', '/sim/pods/default/p/fail', '{"message":"boom"}')).status).toBe(200);
    expect((await call(d, 'POST', '/sim/pods/default/p/restart', '{"container":"c"}')).status).toBe(200);
    expect((await call(d, 'POST', '/sim/nodes/n/down')).status).toBe(200);
    expect(await call(d, 'POST', '/sim/engines/default/p/faults', '{"slowFactor":3,"other":1}')).toEqual({
      status: 200,
      body: { ok: true, faults: { slowFactor: 3 } },
    });
    expect((await call(d, 'DELETE', '/sim/engines/default/p/faults')).body).toMatchObject({
      faults: { slowFactor: 1, errorRate: 0, unhealthy: false },
    });
    expect(calls.slice(0, 4)).toEqual([
      'fail default/p Error boom',
      'restart default/p c',
      'node n down',
      'faults default/p {"slowFactor":3}',
    ]);
  });

  it('answers Status errors: 404 for unknown objects and endpoints, 400 for bad JSON', async () => {
    const d = deps([]);
    const nope = await call(d, 'POST', '/sim/pods/default/nope/fail');
    expect(nope).toEqual({
      status: 404,
      body: expect.objectContaining({
        kind: 'Status',
        reason: 'NotFound',
        message: 'running pod default/nope not found',
      }),
    });
    expect((await call(d, 'POST', '/sim/nodes/x/down')).status).toBe(404);
    expect((await call(d, 'POST', '/sim/nodes/n/sideways')).status).toBe(404);
    expect((await call(d, 'GET', '/sim/whatever')).status).toBe(404);
    expect(await call(d, 'POST', '/sim/pods/default/p/fail', '[1]')).toMatchObject({
      status: 400,
      body: { reason: 'BadRequest' },
    });
  });
});
