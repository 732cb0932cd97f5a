// leaderworkersets.leaderworkerset.x-k8s.io/v1: validated and defaulted against the CRD schema,
// then by what the upstream webhook does.

import { badRequest, fieldErr, type FieldError } from '../api/errors';
import { type ResourceDef } from '../api/resources';
import { AGE_COLUMN, col, NAME_COLUMN, age } from '../api/table';
import { LWS_GROUP, LWS_KIND, LWS_VERSION } from '../lws/constants';
import type { LwsCrd } from '../lws/crd';
import { defaultLeaderWorkerSet, validateLeaderWorkerSet, webhookDenied } from '../lws/webhook';
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
        if (ctx.fieldValidation === 'Strict')
          throw badRequest(
            `${LWS_KIND} in version "${LWS_VERSION}" cannot be handled as a ${LWS_KIND}: strict decoding error: ${list.join(', ')}`,
          );
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
      // The API server's own checks (schema, the /scale replicas) answer 422 together; the
      // validating webhook runs only when they pass, and its denial is a 403.
      const errors = [...validate(obj, crd.schema), ...scaleReplicasErrors(obj)];
      if (errors.length || ctx.subresource !== undefined) return errors;
      const denied = validateLeaderWorkerSet(
        obj as LeaderWorkerSet,
        ctx.operation === 'UPDATE' ? (ctx.old as LeaderWorkerSet) : undefined,
      );
      if (denied.length) throw webhookDenied(denied);
      return [];
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

const MAX_INT32 = 2147483647;

/**
 * apiextensions' ValidateScaleSpec for a CRD with a /scale subresource: the specReplicasPath value
 * must be a non-negative int32 (the field is named by the JSON path, leading dot included).
 */
function scaleReplicasErrors(obj: KObject): FieldError[] {
  const replicas = getPath(obj, 'spec.replicas');
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) return [];
  if (replicas < 0) return [fieldErr.invalid('.spec.replicas', replicas, 'should be a non-negative integer')];
  if (replicas > MAX_INT32)
    return [fieldErr.invalid('.spec.replicas', replicas, `should be less than or equal to ${MAX_INT32}`)];
  return [];
}
