import { describe, expect, it } from 'vitest';
import { GatewayError } from '../proxy/gateway-error';
import { buildIndex, CallerScope, resolveService, ServiceEntry, visibleServices } from './service-entry';

const svc = (id: string, projectId: string, projectName: string, model: string): ServiceEntry => ({
  id,
  projectId,
  projectName,
  name: `svc-${id}`,
  servedModelName: model,
  namespace: 'ns',
  lwsName: `svc-${id}`,
  engine: 'vllm',
  mayScaleToZero: false,
  createdAt: new Date(0),
});
const services = [
  svc('1', 'pa', 'alpha', 'llama'),
  svc('2', 'pb', 'beta', 'llama'),
  svc('3', 'pb', 'beta', 'qwen'),
];
const projects = [
  { id: 'pa', name: 'alpha' },
  { id: 'pb', name: 'beta' },
  { id: 'pc', name: 'gamma' },
];
const index = buildIndex(services, projects);
const admin: CallerScope = { role: 'admin', projectId: null };
const inA: CallerScope = { role: 'inference', projectId: 'pa' };
const memberB: CallerScope = { role: 'member', projectId: 'pb' };

function outcome(caller: CallerScope, model: string, hint?: string): string {
  try {
    return resolveService(index, caller, model, hint).id;
  } catch (err) {
    return `${(err as GatewayError).status} ${(err as GatewayError).code}`;
  }
}

describe('resolveService', () => {
  it.each([
    ['inference key, own project', inA, 'llama', undefined, '1'],
    ['member key, own project', memberB, 'qwen', undefined, '3'],
    ['another project’s model looks missing', inA, 'qwen', undefined, '404 model_not_found'],
    ['unknown model', inA, 'nope', undefined, '404 model_not_found'],
    ['own project named by name', inA, 'llama', 'alpha', '1'],
    ['own project named by id', inA, 'llama', 'pa', '1'],
    ['another project named: 403', inA, 'llama', 'beta', '403 permission_denied'],
    ['an unknown project named: 403 (no leak)', inA, 'llama', 'zeta', '403 permission_denied'],
    ['admin, unique model', admin, 'qwen', undefined, '3'],
    ['admin, model in two projects', admin, 'llama', undefined, '400 ambiguous_model'],
    ['admin names the project', admin, 'llama', 'beta', '2'],
    ['admin names a project by id', admin, 'llama', 'pa', '1'],
    ['admin names a project without the model', admin, 'llama', 'gamma', '404 model_not_found'],
    ['admin names an unknown project', admin, 'llama', 'zeta', '404 model_not_found'],
    ['empty header is no header', inA, 'llama', '', '1'],
  ])('%s', (_, caller, model, hint, expected) => {
    expect(outcome(caller, model, hint)).toBe(expected);
  });
});

describe('visibleServices', () => {
  it.each([
    ['admin sees every project', admin, undefined, ['1', '2', '3']],
    ['admin narrowed by the header', admin, 'beta', ['2', '3']],
    ['admin naming an unknown project sees nothing', admin, 'zeta', []],
    ['a key sees its project', memberB, undefined, ['2', '3']],
  ])('%s', (_, caller, hint, ids) => {
    expect(visibleServices(services, caller, hint, index.projects).map((s) => s.id)).toEqual(ids);
  });
});
