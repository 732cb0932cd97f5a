import { Registry } from '../api/resources';
import type { LwsCrd } from '../lws/crd';
import { configMapDef, eventDef, leaseDef, namespaceDef, nodeDef, secretDef, serviceDef } from './core';
import { leaderWorkerSetDef } from './leaderworkersets';
import { podDef } from './pods';
import { statefulSetDef } from './statefulsets';

export interface KindOptions {
  crd: LwsCrd;
  allocateClusterIP: () => string;
}

export function buildRegistry(o: KindOptions): Registry {
  const r = new Registry();
  r.add(namespaceDef());
  r.add(nodeDef());
  r.add(podDef());
  r.add(serviceDef(o.allocateClusterIP));
  r.add(configMapDef());
  r.add(secretDef());
  r.add(eventDef());
  r.add(leaseDef());
  r.add(statefulSetDef());
  r.add(leaderWorkerSetDef(o.crd));
  return r;
}

export const RES = {
  namespaces: 'namespaces',
  nodes: 'nodes',
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  events: 'events',
  leases: 'coordination.k8s.io/leases',
  statefulsets: 'apps/statefulsets',
  leaderworkersets: 'leaderworkerset.x-k8s.io/leaderworkersets',
} as const;
