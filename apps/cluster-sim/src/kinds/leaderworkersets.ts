// leaderworkersets.leaderworkerset.x-k8s.io/v1: validated and defaulted against the CRD schema,
// then by what the upstream webhook does.

import { badRequest } from '../api/errors';
import { type ResourceDef } from '../api/resources';
import { AGE_COLUMN, col, NAME_COLUMN, age } from '../api/table';
import { LWS_GROUP, LWS_KIND, LWS_VERSION } from '../lws/constants';
import type { LwsCrd } from '../lws/crd';
import { defaultLeaderWorkerSet, validateLeaderWorkerSet } from '../lws/webhook';
import { normalize, validate } from '../schema/structural';
import type { LeaderWorkerSet } from '../types/lws';
import type { KObject } from '../types/meta';
import { getPath, isObject } from '../util/json';

export function leaderWorkerSetDef(crd: LwsCrd): ResourceDef {
  const columns = crd.printerColumns.filter((c) => c.jsonPath !== '.metadata.creationTimestamp');
  const hasAge = crd.printerColumns.some((c) => c.jsonPath === '.metadata.creationTimestamp');
  return {
    id: `${LWS_GROUP}/leaderworkersets`,
    group: LWS_GROUP,
    version: LWS_VERSION,
    plural: 'leaderworkersets',
    singular: 'leaderworkerset',
    kind: LWS_KIND,
    namespaced: true,
    shortNames: crd.shortNames,
    verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
    statusSubresource: true,
    scale: {
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.status.hpaPodSelector',
    },
    crd: true,
    generation: true,
    nameRule: 'dns1123-subdomain',
    fieldSelectors: [],
    unknownFields: (obj) => normalize(obj, crd.schema).unknownFields,
    admit(obj, ctx) {
      const { value, unknownFields } = normalize(obj, crd.schema);
      if (unknownFields.length && ctx.subresource === undefined) {
        const list = unknownFields.map((f) => `unknown field "${f}"`);
        if (ctx.fieldValidation === 'Strict') throw badRequest(`strict decoding error: ${list.join(', ')}`);
        if (ctx.fieldValidation === 'Warn') ctx.warnings.push(...list);
      }
      if (
        ctx.subresource !== undefined ||
        !isObject(value.spec) ||
        !isObject((value.spec as Record<string, unknown>).leaderWorkerTemplate)
      ) {
        return value;
      }
      return defaultLeaderWorkerSet(value as LeaderWorkerSet);
    },
    validate(obj, ctx) {
      const errors = validate(obj, crd.schema);
      if (errors.length || ctx.subresource !== undefined) return errors;
      return validateLeaderWorkerSet(
        obj as LeaderWorkerSet,
        ctx.operation === 'UPDATE' ? (ctx.old as LeaderWorkerSet) : undefined,
      );
    },
    columns: [
      NAME_COLUMN,
      ...columns.map((c) => col(c.name, c.type, c.priority ?? 0, c.format ?? '', c.description ?? '')),
      ...(hasAge ? [{ ...AGE_COLUMN, type: 'date' }] : []),
    ],
    cells(o: KObject, now: number) {
      const values = columns.map((c) => {
        const v = getPath(o, c.jsonPath.replace(/^\./, ''));
        return v === undefined ? null : v;
      });
      return [o.metadata.name, ...values, ...(hasAge ? [age(o, now)] : [])];
    },
  };
}
