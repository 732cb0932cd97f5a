// apps/v1 StatefulSets (the LWS controller creates them; the simulated StatefulSet controller runs them).

import { fieldErr, type FieldError } from '../api/errors';
import { ALL_VERBS, type ResourceDef } from '../api/resources';
import { AGE_COLUMN, col, NAME_COLUMN } from '../api/table';
import { fromLabelSelector, matchesLabels } from '../selectors/label-selector';
import type { StatefulSet } from '../types/workloads';
import { deepEqual, isObject } from '../util/json';
import { defaultPodSpec } from './pod-defaults';
import { validateContainers } from './pods';
import { statefulSetCells } from './printing';

export function statefulSetDef(): ResourceDef {
  return {
    id: 'apps/statefulsets',
    group: 'apps',
    version: 'v1',
    plural: 'statefulsets',
    singular: 'statefulset',
    kind: 'StatefulSet',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    verbs: ALL_VERBS,
    statusSubresource: true,
    scale: {
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.spec.selector',
    },
    crd: false,
    generation: true,
    nameRule: 'dns1123-subdomain',
    fieldSelectors: [],
    admit(obj, ctx) {
      const sts = obj as StatefulSet;
      if (!isObject(sts.spec) || ctx.subresource === 'status') return sts;
      const spec = { ...sts.spec };
      spec.replicas ??= 1;
      spec.podManagementPolicy ??= 'OrderedReady';
      spec.revisionHistoryLimit ??= 10;
      spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
      const us = { ...(spec.updateStrategy ?? {}) };
      us.type ??= 'RollingUpdate';
      if (us.type === 'RollingUpdate') us.rollingUpdate = { partition: 0, ...(us.rollingUpdate ?? {}) };
      spec.updateStrategy = us;
      if (isObject(spec.template) && isObject(spec.template.spec)) {
        spec.template = { ...spec.template, spec: defaultPodSpec(spec.template.spec) };
      }
      const status =
        ctx.operation === 'CREATE' && !sts.status ? { replicas: 0, availableReplicas: 0 } : sts.status;
      return { ...sts, spec, status };
    },
    validate(obj, ctx) {
      const sts = obj as StatefulSet;
      const errors: FieldError[] = [];
      if (!isObject(sts.spec)) return [fieldErr.required('spec')];
      if (ctx.subresource === 'status') return errors;
      if ((sts.spec.replicas ?? 0) < 0)
        errors.push(
          fieldErr.invalid('spec.replicas', sts.spec.replicas, 'must be greater than or equal to 0'),
        );
      if (!isObject(sts.spec.selector)) errors.push(fieldErr.required('spec.selector'));
      else {
        const labels = sts.spec.template?.metadata?.labels ?? {};
        const reqs = fromLabelSelector(sts.spec.selector);
        if (reqs.length === 0)
          errors.push(
            fieldErr.invalid('spec.selector', sts.spec.selector, 'empty selector is invalid for statefulset'),
          );
        else if (!matchesLabels(reqs, labels)) {
          errors.push(
            fieldErr.invalid(
              'spec.template.metadata.labels',
              labels,
              '`selector` does not match template `labels`',
            ),
          );
        }
      }
      if (!isObject(sts.spec.template) || !isObject(sts.spec.template.spec))
        errors.push(fieldErr.required('spec.template'));
      else {
        errors.push(
          ...validateContainers(sts.spec.template.spec.containers, 'spec.template.spec.containers', true),
        );
        errors.push(
          ...validateContainers(
            sts.spec.template.spec.initContainers,
            'spec.template.spec.initContainers',
            false,
          ),
        );
      }
      if (ctx.operation === 'UPDATE' && ctx.old) {
        const old = ctx.old as StatefulSet;
        const fixed = (s: StatefulSet['spec']): unknown => ({
          selector: s.selector,
          serviceName: s.serviceName,
          podManagementPolicy: s.podManagementPolicy,
          volumeClaimTemplates: s.volumeClaimTemplates,
        });
        if (!deepEqual(fixed(old.spec), fixed(sts.spec))) {
          errors.push(
            fieldErr.forbidden(
              'spec',
              "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ),
          );
        }
      }
      return errors;
    },
    columns: [
      NAME_COLUMN,
      col('Ready', 'string', 0, '', 'Number of the pod with ready state'),
      AGE_COLUMN,
      col('Containers', 'string', 1, '', 'Names of each container in the template.'),
      col('Images', 'string', 1, '', 'Images referenced by each container in the template.'),
    ],
    cells: statefulSetCells,
  };
}
