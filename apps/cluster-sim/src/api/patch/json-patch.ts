// JSON patch (RFC 6902) over plain JSON, without mutating the input.

import { deepEqual, isObject } from '../../util/json';

export class JsonPatchError extends Error {}

interface Operation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function get(doc: unknown, tokens: string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      const i = Number(t);
      if (!/^\d+$/.test(t) || i >= cur.length) throw new JsonPatchError(`index out of range: ${t}`);
      cur = cur[i];
    } else if (isObject(cur)) {
      if (!(t in cur)) throw new JsonPatchError(`missing value at ${t}`);
      cur = cur[t];
    } else throw new JsonPatchError(`cannot traverse into a scalar at ${t}`);
  }
  return cur;
}

/** Returns a copy of doc with `fn` applied to the container of the last token. */
function update(doc: unknown, tokens: string[], fn: (parent: unknown, last: string) => unknown): unknown {
  if (tokens.length === 0) throw new JsonPatchError('operation on the document root is not supported');
  const [head, ...rest] = tokens;
  if (rest.length === 0) return fn(doc, head);
  if (Array.isArray(doc)) {
    const i = Number(head);
    if (!/^\d+$/.test(head) || i >= doc.length) throw new JsonPatchError(`index out of range: ${head}`);
    const copy = doc.slice();
    copy[i] = update(doc[i], rest, fn);
    return copy;
  }
  if (isObject(doc)) {
    if (!(head in doc)) throw new JsonPatchError(`missing value at ${head}`);
    return { ...doc, [head]: update(doc[head], rest, fn) };
  }
  throw new JsonPatchError(`cannot traverse into a scalar at ${head}`);
}

function add(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  return update(doc, tokens, (parent, last) => {
    if (Array.isArray(parent)) {
      const copy = parent.slice();
      if (last === '-') copy.push(value);
      else {
        const i = Number(last);
        if (!/^\d+$/.test(last) || i > parent.length) throw new JsonPatchError(`index out of range: ${last}`);
        copy.splice(i, 0, value);
      }
      return copy;
    }
    if (isObject(parent)) return { ...parent, [last]: value };
    throw new JsonPatchError(`cannot add to a scalar at ${last}`);
  });
}

function remove(doc: unknown, tokens: string[]): unknown {
  return update(doc, tokens, (parent, last) => {
    if (Array.isArray(parent)) {
      const i = Number(last);
      if (!/^\d+$/.test(last) || i >= parent.length) throw new JsonPatchError(`index out of range: ${last}`);
      const copy = parent.slice();
      copy.splice(i, 1);
      return copy;
    }
    if (isObject(parent)) {
      if (!(last in parent)) throw new JsonPatchError(`unable to remove nonexistent key: ${last}`);
      const copy = { ...parent };
      delete copy[last];
      return copy;
    }
    throw new JsonPatchError(`cannot remove from a scalar at ${last}`);
  });
}

function replace(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  get(doc, tokens);
  return update(doc, tokens, (parent, last) => {
    if (Array.isArray(parent)) {
      const copy = parent.slice();
      copy[Number(last)] = value;
      return copy;
    }
    return { ...(parent as Record<string, unknown>), [last]: value };
  });
}

export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new JsonPatchError('a JSON patch must be an array of operations');
  let cur = doc;
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new JsonPatchError('each operation needs "op" and "path"');
    }
    const op = raw as unknown as Operation;
    const tokens = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        cur = add(cur, tokens, op.value);
        break;
      case 'remove':
        cur = remove(cur, tokens);
        break;
      case 'replace':
        cur = replace(cur, tokens, op.value);
        break;
      case 'move': {
        const from = parsePointer(op.from ?? '');
        const value = get(cur, from);
        cur = add(remove(cur, from), tokens, value);
        break;
      }
      case 'copy':
        cur = add(cur, tokens, get(cur, parsePointer(op.from ?? '')));
        break;
      case 'test':
        if (!deepEqual(get(cur, tokens), op.value))
          throw new JsonPatchError(`testing value ${op.path} failed`);
        break;
      default:
        throw new JsonPatchError(`unexpected kind of operation: ${op.op}`);
    }
  }
  return cur;
}
