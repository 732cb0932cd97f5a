// Field selectors (`?fieldSelector=metadata.name=x,status.phase!=Running`).

import { getPath } from '../util/json';
import { SelectorParseError } from './label-selector';

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

export function parseFieldSelector(text: string | undefined | null): FieldRequirement[] {
  if (text === undefined || text === null || text.trim() === '') return [];
  return text.split(',').map((raw) => {
    const part = raw.trim();
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorParseError(`invalid selector: '${text}'; can't understand '${part}'`);
    return { field: m[1].trim(), value: m[3].trim(), negate: m[2] === '!=' };
  });
}

/** Checks the fields against those a resource supports; returns the first unsupported one. */
export function unsupportedField(
  reqs: readonly FieldRequirement[],
  supported: readonly string[],
): string | undefined {
  return reqs.find((r) => !supported.includes(r.field))?.field;
}

function fieldValue(obj: unknown, field: string): string {
  const value = getPath(obj, field);
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}

export function matchesFields(reqs: readonly FieldRequirement[], obj: unknown): boolean {
  for (const req of reqs) {
    const equal = fieldValue(obj, req.field) === req.value;
    if (equal === req.negate) return false;
  }
  return true;
}
