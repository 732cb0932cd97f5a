// What the upstream LWS admission webhook does to a LeaderWorkerSet: defaulting and validation.
// Pure functions over plain objects; schema defaults (CRD) are applied before these run.

import { ApiError, fieldErr, fieldErrorString, type FieldError } from '../api/errors';
import type { LeaderWorkerSet } from '../types/lws';
import type { PodTemplateSpec } from '../types/workloads';
import { isObject } from '../util/json';
import { ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY } from './constants';
import { isValidPercent, scaledValue } from './intstr';

const MAX_INT32 = 2147483647;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The upstream webhook decodes the object into Go structs and encodes it again, so struct fields that
 * are not pointers come back even when absent: a pod template's `metadata: {}` and each container's
 * `resources: {}`.
 */
function roundTripTemplate(template: PodTemplateSpec | undefined): PodTemplateSpec | undefined {
  if (!isObject(template)) return template;
  const out: PodTemplateSpec = { ...template, metadata: template.metadata ?? {} };
  if (isObject(template.spec)) {
    const spec = { ...template.spec };
    for (const kind of ['initContainers', 'containers'] as const) {
      const list = spec[kind];
      if (Array.isArray(list))
        spec[kind] = list.map((c) =>
          isObject(c) && c.resources === undefined ? { ...c, resources: {} } : c,
        );
    }
    out.spec = spec;
  }
  return out;
}

/** Mutating webhook: returns a defaulted copy. */
export function defaultLeaderWorkerSet(lws: LeaderWorkerSet): LeaderWorkerSet {
  const spec = { ...lws.spec };
  const lwt = { ...spec.leaderWorkerTemplate };
  lwt.workerTemplate = roundTripTemplate(lwt.workerTemplate) as PodTemplateSpec;
  if (lwt.leaderTemplate) lwt.leaderTemplate = roundTripTemplate(lwt.leaderTemplate);
  if (!lwt.restartPolicy) lwt.restartPolicy = 'RecreateGroupOnPodRestart';
  if (lwt.restartPolicy === 'Default') lwt.restartPolicy = 'None';
  spec.leaderWorkerTemplate = lwt;
  const rollout = { ...(spec.rolloutStrategy ?? {}) };
  if (!rollout.type) rollout.type = 'RollingUpdate';
  if (rollout.type === 'RollingUpdate' && !rollout.rollingUpdateConfiguration) {
    rollout.rollingUpdateConfiguration = { maxUnavailable: 1, maxSurge: 0, partition: 0 };
  }
  spec.rolloutStrategy = rollout;
  if (!spec.networkConfig) spec.networkConfig = { subdomainPolicy: 'Shared' };
  else if (!spec.networkConfig.subdomainPolicy)
    spec.networkConfig = { ...spec.networkConfig, subdomainPolicy: 'Shared' };
  return { ...lws, spec };
}

/**
 * An IntOrString in a Go field error: IntOrString's String() has a pointer receiver, so the value is
 * printed with %#v ("intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}").
 */
function goIntOrString(value: number | string | undefined): string {
  return typeof value === 'string'
    ? `intstr.IntOrString{Type:1, IntVal:0, StrVal:${JSON.stringify(value)}}`
    : `intstr.IntOrString{Type:0, IntVal:${value ?? 0}, StrVal:""}`;
}

function invalidIntOrString(field: string, value: number | string | undefined, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, body: `Invalid value: ${goIntOrString(value)}: ${detail}` };
}

function validateIntOrPercent(value: number | string | undefined, path: string): FieldError[] {
  if (value === undefined) return [];
  if (typeof value === 'string') {
    if (!isValidPercent(value)) {
      return [
        invalidIntOrString(
          path,
          value,
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      ];
    }
    if (Number(value.slice(0, -1)) > 100)
      return [invalidIntOrString(path, value, 'must not be greater than 100%')];
    return [];
  }
  // Upstream's validateNonnegativeField passes an int64 (printed as a number), typo included.
  return value < 0 ? [fieldErr.invalid(path, value, 'must be grater than or equal to 0')] : [];
}

/**
 * Validating webhook (create and update); `old` is given on update. Like upstream it does not look at
 * the pod templates: a template the StatefulSet API refuses makes the controller's create fail instead.
 */
export function validateLeaderWorkerSet(lws: LeaderWorkerSet, old?: LeaderWorkerSet): FieldError[] {
  const errors: FieldError[] = [];
  const name = lws.metadata.name ?? '';
  if (!DNS1035.test(name) || name.length > 63) {
    errors.push(
      fieldErr.invalid(
        'metadata.name',
        name,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      ),
    );
  }
  const spec = lws.spec;
  const replicas = spec.replicas ?? 1;
  const size = spec.leaderWorkerTemplate.size ?? 1;
  if (replicas < 0)
    errors.push(fieldErr.invalid('spec.replicas', replicas, 'replicas must be equal or greater than 0'));
  if (size < 1)
    errors.push(
      fieldErr.invalid('spec.leaderWorkerTemplate.size', size, 'size must be equal or greater than 1'),
    );
  if (replicas * size > MAX_INT32) {
    errors.push(
      fieldErr.invalid(
        'spec.replicas',
        replicas,
        `the product of replicas and worker replicas must not exceed ${MAX_INT32}`,
      ),
    );
  }
  const cfg = spec.rolloutStrategy?.rollingUpdateConfiguration;
  const base = 'spec.rolloutStrategy.rollingUpdateConfiguration';
  if (cfg) {
    errors.push(...validateIntOrPercent(cfg.maxUnavailable, `${base}.maxUnavailable`));
    errors.push(...validateIntOrPercent(cfg.maxSurge, `${base}.maxSurge`));
    let mu = 1;
    let ms = 0;
    try {
      mu = scaledValue(cfg.maxUnavailable, replicas, false);
    } catch {
      errors.push(invalidIntOrString(`${base}.maxUnavailable`, cfg.maxUnavailable, 'invalid value'));
    }
    try {
      ms = scaledValue(cfg.maxSurge, replicas, true);
    } catch {
      errors.push(invalidIntOrString(`${base}.maxSurge`, cfg.maxSurge, 'invalid value'));
    }
    if (mu === 0 && ms === 0 && replicas !== 0) {
      errors.push(
        invalidIntOrString(
          `${base}.maxUnavailable`,
          cfg.maxUnavailable,
          'must not be 0 when `maxSurge` is 0',
        ),
      );
    }
  }
  const sgp = spec.leaderWorkerTemplate.subGroupPolicy;
  const sgPath = 'spec.leaderWorkerTemplate.SubGroupPolicy.subGroupSize';
  if (sgp && sgp.subGroupSize !== undefined) {
    const sg = sgp.subGroupSize;
    if (sg < 1) errors.push(fieldErr.invalid(sgPath, sg, 'subGroupSize must be equal or greater than 1'));
    else {
      if (size % sg !== 0 && (size - 1) % sg !== 0) {
        errors.push(fieldErr.invalid(sgPath, sg, 'size or size - 1 must be divisible by subGroupSize'));
      }
      if (size < sg) errors.push(fieldErr.invalid(sgPath, sg, 'subGroupSize cannot be larger than size'));
      if (sgp.subGroupPolicyType === 'LeaderExcluded' && (size - 1) % sg !== 0) {
        errors.push(
          fieldErr.invalid(sgPath, sg, 'size-1 must be divisible by subGroupSize when using LeaderExcluded'),
        );
      }
    }
  } else if (lws.metadata.annotations?.[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY] !== undefined) {
    errors.push(
      fieldErr.invalid(
        `metadata.annotations.${ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY}`,
        lws.metadata.annotations[ANN_SUBGROUP_EXCLUSIVE_TOPOLOGY],
        'cannot have subgroup-exclusive-topology without subGroupSize set',
      ),
    );
  }
  if (old) {
    const oldSg = old.spec.leaderWorkerTemplate.subGroupPolicy?.subGroupSize;
    const newSg = sgp?.subGroupSize;
    if (oldSg !== undefined && newSg !== undefined && oldSg !== newSg) {
      errors.push(fieldErr.invalid(sgPath, newSg, 'field is immutable'));
    } else if (oldSg === undefined && newSg !== undefined) {
      errors.push(
        fieldErr.invalid(sgPath, newSg, 'cannot enable subGroupSize after the lws is already created'),
      );
    } else if (oldSg !== undefined && newSg === undefined) {
      errors.push(fieldErr.invalid(sgPath, oldSg, 'cannot remove subGroupSize after enabled'));
    }
  }
  return errors;
}

/**
 * How the API server answers a denial of the LWS validating webhook: controller-runtime turns the
 * aggregated field errors into a 403 Forbidden, which the API server prefixes with the webhook's name.
 */
export function webhookDenied(errors: FieldError[]): ApiError {
  const list = errors.map(fieldErrorString);
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new ApiError(
    403,
    'Forbidden',
    `admission webhook "vleaderworkerset.kb.io" denied the request: ${joined}`,
  );
}
