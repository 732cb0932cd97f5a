// Validation of metadata common to every kind.

import type { KObject } from '../types/meta';
import { fieldErr, type FieldError } from './errors';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label' | 'any';

export function validateName(name: string, rule: NameRule): FieldError[] {
  if (rule === 'any')
    return name.includes('/') ? [fieldErr.invalid('metadata.name', name, "may not contain '/'")] : [];
  if (rule === 'dns1123-subdomain' && (!DNS1123_SUBDOMAIN.test(name) || name.length > 253)) {
    return [
      fieldErr.invalid(
        'metadata.name',
        name,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    ];
  }
  if (rule === 'dns1123-label' && (!DNS1123_LABEL.test(name) || name.length > 63)) {
    return [
      fieldErr.invalid(
        'metadata.name',
        name,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ),
    ];
  }
  if (rule === 'dns1035-label' && (!DNS1035_LABEL.test(name) || name.length > 63)) {
    return [
      fieldErr.invalid(
        'metadata.name',
        name,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      ),
    ];
  }
  return [];
}

export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object' || Array.isArray(labels))
    return [fieldErr.invalid(path, labels, 'must be a map of strings')];
  const errors: FieldError[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (!QUALIFIED_NAME.test(k) || k.length > 317) {
      errors.push(
        fieldErr.invalid(
          path,
          k,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    }
    if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63) {
      errors.push(
        fieldErr.invalid(
          `${path}`,
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
      );
    }
  }
  return errors;
}

export function validateAnnotations(annotations: unknown): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (typeof annotations !== 'object' || Array.isArray(annotations)) {
    return [fieldErr.invalid('metadata.annotations', annotations, 'must be a map of strings')];
  }
  const errors: FieldError[] = [];
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    if (typeof v !== 'string')
      errors.push(fieldErr.invalid(`metadata.annotations[${k}]`, v, 'must be a string'));
  }
  return errors;
}

export function validateObjectMeta(obj: KObject, rule: NameRule): FieldError[] {
  return [
    ...validateName(obj.metadata.name ?? '', rule),
    ...validateLabels(obj.metadata.labels, 'metadata.labels'),
    ...validateAnnotations(obj.metadata.annotations),
  ];
}
