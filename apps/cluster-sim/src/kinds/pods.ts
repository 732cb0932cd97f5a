// Pods: defaulting, the LWS pod webhook, validation and printing.

import { fieldErr, type FieldError } from '../api/errors';
import { ALL_VERBS, type ResourceDef } from '../api/resources';
import { AGE_COLUMN, col, NAME_COLUMN } from '../api/table';
import { mutateLwsPod } from '../lws/pod-webhook';
import type { Container, Pod } from '../types/workloads';
import { deepEqual, isObject } from '../util/json';
import { defaultPodAdmission, defaultPodSpec, qosClass } from './pod-defaults';
import { podCells } from './printing';

export function validateContainers(list: unknown, path: string, required: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (!Array.isArray(list) || list.length === 0) {
    if (required) errors.push(fieldErr.required(path));
    return errors;
  }
  const names = new Set<string>();
  list.forEach((c: unknown, i) => {
    if (!isObject(c)) {
      errors.push(fieldErr.invalid(`${path}[${i}]`, c, 'must be an object'));
      return;
    }
    const name = c.name;
    if (typeof name !== 'string' || name === '') errors.push(fieldErr.required(`${path}[${i}].name`));
    else if (names.has(name)) errors.push(fieldErr.duplicate(`${path}[${i}].name`, name));
    else names.add(name);
    if (typeof c.image !== 'string' || c.image === '') errors.push(fieldErr.required(`${path}[${i}].image`));
  });
  return errors;
}

const MUTABLE_POD_SPEC =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function comparableSpec(spec: Pod['spec']): unknown {
  const strip = (cs: Container[] | undefined): unknown => cs?.map((c) => ({ ...c, image: undefined }));
  return {
    ...spec,
    containers: strip(spec.containers),
    initContainers: strip(spec.initContainers),
    activeDeadlineSeconds: undefined,
    tolerations: undefined,
  };
}

export function podDef(): ResourceDef {
  return {
    id: 'pods',
    group: '',
    version: 'v1',
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    verbs: ALL_VERBS,
    statusSubresource: true,
    crd: false,
    generation: false,
    nameRule: 'dns1123-subdomain',
    fieldSelectors: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    extraSubresources: ['log'],
    admit(obj, ctx) {
      let pod = obj as Pod;
      if (!isObject(pod.spec)) return pod;
      if (ctx.operation === 'CREATE') {
        pod = mutateLwsPod(pod);
        const spec = defaultPodAdmission(defaultPodSpec(pod.spec));
        const status =
          ctx.internal && pod.status ? pod.status : { phase: 'Pending' as const, qosClass: qosClass(spec) };
        return { ...pod, spec, status };
      }
      if (ctx.subresource === 'status') return pod;
      return { ...pod, spec: defaultPodSpec(pod.spec) };
    },
    validate(obj, ctx) {
      const pod = obj as Pod;
      if (!isObject(pod.spec)) return [fieldErr.required('spec')];
      const errors = [
        ...validateContainers(pod.spec.containers, 'spec.containers', true),
        ...validateContainers(pod.spec.initContainers, 'spec.initContainers', false),
      ];
      if (ctx.operation === 'UPDATE' && !ctx.internal && ctx.subresource !== 'status' && ctx.old) {
        const old = ctx.old as Pod;
        if (!deepEqual(comparableSpec(old.spec), comparableSpec(pod.spec)))
          errors.push(fieldErr.forbidden('spec', MUTABLE_POD_SPEC));
      }
      return errors;
    },
    columns: [
      NAME_COLUMN,
      col('Ready', 'string', 0, '', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 0, '', 'The aggregate status of the containers in this pod.'),
      col(
        'Restarts',
        'string',
        0,
        '',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      AGE_COLUMN,
      col(
        'IP',
        'string',
        1,
        '',
        'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
      ),
      col('Node', 'string', 1, '', 'NodeName is a request to schedule this pod onto a specific node.'),
      col(
        'Nominated Node',
        'string',
        1,
        '',
        'nominatedNodeName is set when this pod preempts other pods on the node.',
      ),
      col(
        'Readiness Gates',
        'string',
        1,
        '',
        'If specified, all readiness gates will be evaluated for pod readiness.',
      ),
    ],
    cells: podCells,
  };
}
