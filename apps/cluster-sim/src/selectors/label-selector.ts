// Label selectors: the string syntax of `?labelSelector=` and the structured metav1.LabelSelector.

import type { LabelSelector } from '../types/workloads';

export type Operator = 'in' | 'notin' | 'exists' | 'doesnotexist' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

export class SelectorParseError extends Error {}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 317) throw new SelectorParseError(`invalid label key "${key}"`);
  return key;
}

function checkValue(value: string): string {
  if (!VALUE.test(value) || value.length > 63)
    throw new SelectorParseError(`invalid label value: "${value}"`);
  return value;
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseRequirement(raw: string): Requirement {
  const text = raw.trim();
  if (text === '') throw new SelectorParseError("found '', expected: !, identifier, or 'end of string'");
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(text);
  if (setMatch) {
    const values = setMatch[3]
      .split(',')
      .map((v) => v.trim())
      .filter((v, i, all) => v !== '' || all.length === 1);
    return { key: checkKey(setMatch[1]), operator: setMatch[2] as Operator, values: values.map(checkValue) };
  }
  if (text.startsWith('!'))
    return { key: checkKey(text.slice(1).trim()), operator: 'doesnotexist', values: [] };
  const opMatch = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(text);
  if (opMatch) {
    const [, key, op, value] = opMatch;
    const v = checkValue(value.trim());
    if (op === '!=') return { key: checkKey(key), operator: 'notin', values: [v] };
    if (op === '>' || op === '<') {
      if (!/^-?\d+$/.test(v))
        throw new SelectorParseError(`for 'Gt', 'Lt' operators, the value must be an integer`);
      return { key: checkKey(key), operator: op === '>' ? 'gt' : 'lt', values: [v] };
    }
    return { key: checkKey(key), operator: 'in', values: [v] };
  }
  if (/\s/.test(text)) throw new SelectorParseError(`unable to parse requirement: found '${text}'`);
  return { key: checkKey(text), operator: 'exists', values: [] };
}

/** Parses `a=b,c!=d,e in (f,g),!h,i`. Throws SelectorParseError. */
export function parseLabelSelector(text: string | undefined | null): Requirement[] {
  if (text === undefined || text === null || text.trim() === '') return [];
  return splitTopLevel(text).map(parseRequirement);
}

/** Converts a structured selector; `null`/undefined selects everything. */
export function fromLabelSelector(selector: LabelSelector | undefined | null): Requirement[] {
  if (!selector) return [];
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    reqs.push({ key, operator: 'in', values: [value] });
  for (const expr of selector.matchExpressions ?? []) {
    const op = expr.operator.toLowerCase();
    if (op === 'in' || op === 'notin') reqs.push({ key: expr.key, operator: op, values: expr.values ?? [] });
    else if (op === 'exists') reqs.push({ key: expr.key, operator: 'exists', values: [] });
    else if (op === 'doesnotexist') reqs.push({ key: expr.key, operator: 'doesnotexist', values: [] });
    else if (op === 'gt' || op === 'lt')
      reqs.push({ key: expr.key, operator: op, values: expr.values ?? [] });
    else throw new SelectorParseError(`"${expr.operator}" is not a valid label selector operator`);
  }
  return reqs;
}

export function matchesRequirement(req: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  switch (req.operator) {
    case 'in':
      return has && req.values.includes(value as string);
    case 'notin':
      return !has || !req.values.includes(value as string);
    case 'exists':
      return has;
    case 'doesnotexist':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(value as string)) return false;
      const n = Number(value);
      const bound = Number(req.values[0]);
      return req.operator === 'gt' ? n > bound : n < bound;
    }
  }
}

export function matchesLabels(
  reqs: readonly Requirement[],
  labels: Record<string, string> | undefined,
): boolean {
  for (const req of reqs) if (!matchesRequirement(req, labels)) return false;
  return true;
}

/** The canonical string form (as metav1.FormatLabelSelector prints it). */
export function formatRequirements(reqs: readonly Requirement[]): string {
  return reqs
    .map((r) => {
      switch (r.operator) {
        case 'in':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'notin':
          return r.values.length === 1
            ? `${r.key}!=${r.values[0]}`
            : `${r.key} notin (${r.values.join(',')})`;
        case 'exists':
          return r.key;
        case 'doesnotexist':
          return `!${r.key}`;
        case 'gt':
          return `${r.key}>${r.values[0]}`;
        case 'lt':
          return `${r.key}<${r.values[0]}`;
      }
    })
    .join(',');
}

/** matchLabels as a sorted selector string (`a=b,c=d`). */
export function selectorStringFromLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}
