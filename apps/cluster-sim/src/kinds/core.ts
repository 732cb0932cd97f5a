// Core v1 kinds other than pods: namespaces, nodes, services, configmaps, secrets, events; and Leases.

import { fieldErr, type FieldError } from '../api/errors';
import { ALL_VERBS, type ResourceDef } from '../api/resources';
import { AGE_COLUMN, col, NAME_COLUMN } from '../api/table';
import type { KObject } from '../types/meta';
import { isObject } from '../util/json';
import {
  dataCells,
  eventCells,
  leaseCells,
  namespaceCells,
  nodeCells,
  secretCells,
  serviceCells,
} from './printing';

const core = (plural: string, kind: string, singular: string, extra: Partial<ResourceDef>): ResourceDef => ({
  id: plural,
  group: '',
  version: 'v1',
  plural,
  singular,
  kind,
  namespaced: true,
  shortNames: [],
  verbs: ALL_VERBS,
  statusSubresource: false,
  crd: false,
  generation: false,
  nameRule: 'dns1123-subdomain',
  fieldSelectors: [],
  ...extra,
});

export function namespaceDef(): ResourceDef {
  return core('namespaces', 'Namespace', 'namespace', {
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    statusSubresource: true,
    nameRule: 'dns1123-label',
    fieldSelectors: ['status.phase'],
    admit(obj) {
      const name = obj.metadata.name as string;
      return {
        ...obj,
        metadata: {
          ...obj.metadata,
          labels: { ...obj.metadata.labels, 'kubernetes.io/metadata.name': name },
        },
        spec: isObject(obj.spec) ? obj.spec : { finalizers: ['kubernetes'] },
        status: isObject(obj.status) ? obj.status : { phase: 'Active' },
      };
    },
    columns: [NAME_COLUMN, col('Status', 'string', 0, '', 'The status of the namespace'), AGE_COLUMN],
    cells: namespaceCells,
  });
}

export function nodeDef(): ResourceDef {
  return core('nodes', 'Node', 'node', {
    namespaced: false,
    shortNames: ['no'],
    statusSubresource: true,
    fieldSelectors: ['spec.unschedulable'],
    columns: [
      NAME_COLUMN,
      col('Status', 'string', 0, '', 'The status of the node'),
      col('Roles', 'string', 0, '', 'The roles of the node'),
      AGE_COLUMN,
      col('Version', 'string', 0, '', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 1, '', 'List of internal IPs for the node.'),
      col('External-IP', 'string', 1, '', 'List of external IPs for the node.'),
      col('OS-Image', 'string', 1, '', 'OS image reported by the node.'),
      col('Kernel-Version', 'string', 1, '', 'Kernel version reported by the node.'),
      col('Container-Runtime', 'string', 1, '', 'Container runtime and version reported by the node.'),
    ],
    cells: nodeCells,
  });
}

export function serviceDef(allocateClusterIP: () => string): ResourceDef {
  return core('services', 'Service', 'service', {
    shortNames: ['svc'],
    categories: ['all'],
    statusSubresource: true,
    nameRule: 'dns1035-label',
    admit(obj, ctx) {
      const spec: Record<string, unknown> = { ...(isObject(obj.spec) ? obj.spec : {}) };
      const oldSpec = ctx.old && isObject(ctx.old.spec) ? ctx.old.spec : undefined;
      if (oldSpec && spec.clusterIP === undefined) spec.clusterIP = oldSpec.clusterIP;
      spec.type ??= 'ClusterIP';
      if (spec.clusterIP === undefined || spec.clusterIP === '')
        spec.clusterIP = spec.type === 'ExternalName' ? undefined : allocateClusterIP();
      if (spec.clusterIP !== undefined) spec.clusterIPs = [spec.clusterIP];
      spec.sessionAffinity ??= 'None';
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
      if (Array.isArray(spec.ports)) {
        spec.ports = (spec.ports as Record<string, unknown>[]).map((p) => ({
          protocol: 'TCP',
          targetPort: p.port,
          ...p,
        }));
      }
      return { ...obj, spec, status: isObject(obj.status) ? obj.status : { loadBalancer: {} } };
    },
    validate(obj, ctx) {
      const errors: FieldError[] = [];
      const spec = (isObject(obj.spec) ? obj.spec : {}) as Record<string, unknown>;
      const ports = Array.isArray(spec.ports) ? (spec.ports as Record<string, unknown>[]) : [];
      if (ports.length === 0 && spec.clusterIP !== 'None' && spec.type !== 'ExternalName')
        errors.push(fieldErr.required('spec.ports'));
      ports.forEach((p, i) => {
        if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) {
          errors.push(
            fieldErr.invalid(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'),
          );
        }
        if (ports.length > 1 && !p.name) errors.push(fieldErr.required(`spec.ports[${i}].name`));
      });
      const oldSpec = ctx.old && isObject(ctx.old.spec) ? ctx.old.spec : undefined;
      if (oldSpec && oldSpec.clusterIP !== spec.clusterIP) {
        errors.push(fieldErr.invalid('spec.clusterIPs[0]', spec.clusterIP, 'may not change once set'));
      }
      return errors;
    },
    columns: [
      NAME_COLUMN,
      col('Type', 'string', 0, '', 'The type of the service.'),
      col('Cluster-IP', 'string', 0, '', 'The IP address of the service.'),
      col('External-IP', 'string', 0, '', 'The external IP address of the service.'),
      col('Port(s)', 'string', 0, '', 'The ports of the service.'),
      AGE_COLUMN,
      col('Selector', 'string', 1, '', 'The label selector of the service.'),
    ],
    cells: serviceCells,
  });
}

export function configMapDef(): ResourceDef {
  return core('configmaps', 'ConfigMap', 'configmap', {
    shortNames: ['cm'],
    validate(obj) {
      const errors: FieldError[] = [];
      if (
        obj.data !== undefined &&
        (!isObject(obj.data) || Object.values(obj.data).some((v) => typeof v !== 'string'))
      ) {
        errors.push(fieldErr.invalid('data', obj.data, 'must be a map of strings'));
      }
      return errors;
    },
    columns: [NAME_COLUMN, col('Data', 'string'), AGE_COLUMN],
    cells: dataCells,
  });
}

export function secretDef(): ResourceDef {
  return core('secrets', 'Secret', 'secret', {
    fieldSelectors: ['type'],
    admit(obj) {
      const out: KObject = { ...obj, type: obj.type || 'Opaque' };
      if (isObject(obj.stringData)) {
        const data: Record<string, unknown> = { ...(isObject(obj.data) ? obj.data : {}) };
        for (const [k, v] of Object.entries(obj.stringData))
          data[k] = Buffer.from(String(v)).toString('base64');
        out.data = data;
        delete out.stringData;
      }
      return out;
    },
    validate(obj) {
      const errors: FieldError[] = [];
      if (isObject(obj.data)) {
        for (const [k, v] of Object.entries(obj.data)) {
          if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
            errors.push(
              fieldErr.invalid(`data[${k}]`, '<secret contents redacted>', 'must be base64-encoded'),
            );
          }
        }
      }
      return errors;
    },
    columns: [NAME_COLUMN, col('Type', 'string'), col('Data', 'string'), AGE_COLUMN],
    cells: secretCells,
  });
}

export function eventDef(): ResourceDef {
  return core('events', 'Event', 'event', {
    shortNames: ['ev'],
    nameRule: 'any',
    fieldSelectors: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
    columns: [
      col('Last Seen', 'string'),
      col('Type', 'string'),
      col('Reason', 'string'),
      col('Object', 'string'),
      col('Message', 'string'),
      col('Subobject', 'string', 1),
      col('Source', 'string', 1),
      col('First Seen', 'string', 1),
      col('Count', 'integer', 1),
      col('Name', 'string', 1, 'name'),
    ],
    cells: eventCells,
  });
}

/** coordination.k8s.io/v1 Leases: node heartbeats in kube-node-lease (what a node agent renews). */
export function leaseDef(): ResourceDef {
  return {
    ...core('leases', 'Lease', 'lease', {}),
    id: 'coordination.k8s.io/leases',
    group: 'coordination.k8s.io',
    columns: [NAME_COLUMN, col('Holder', 'string', 0, '', 'The holder of the lease.'), AGE_COLUMN],
    cells: leaseCells,
  };
}
