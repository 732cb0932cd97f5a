// Loads the LeaderWorkerSet CRD: the upstream file when it can be found, else the condensed schema.

import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { JSONSchemaProps } from '../schema/structural';
import { isObject } from '../util/json';
import { CONDENSED_LWS_SCHEMA, DEFAULT_LWS_PRINTER_COLUMNS, type PrinterColumn } from './lws-schema';

export interface LwsCrd {
  schema: JSONSchemaProps;
  printerColumns: PrinterColumn[];
  shortNames: string[];
  /** Where the schema came from: a file path, or "condensed". */
  source: string;
}

export const CRD_FILE_NAME = 'lws-v0.7.0-crd.yaml';

/** Candidate locations of the upstream CRD: `<repo>/../shared/reference/` from here and from cwd. */
export function crdCandidates(): string[] {
  const out: string[] = [];
  const fromEnv = process.env.TROUPE_SIM_LWS_CRD;
  if (fromEnv) out.push(fromEnv);
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (let i = 0; i < 8; i++) {
      if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'apps'))) {
        out.push(path.join(dir, '..', 'shared', 'reference', CRD_FILE_NAME));
        break;
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return out;
}

export function parseCrd(text: string, source: string): LwsCrd {
  const doc: unknown = parse(text);
  if (!isObject(doc) || !isObject(doc.spec)) throw new Error(`${source}: not a CustomResourceDefinition`);
  const spec = doc.spec;
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  const v1 = versions.find((v: unknown) => isObject(v) && v.name === 'v1');
  if (!isObject(v1) || !isObject(v1.schema) || !isObject(v1.schema.openAPIV3Schema)) {
    throw new Error(`${source}: no v1 openAPIV3Schema`);
  }
  const names = isObject(spec.names) ? spec.names : {};
  return {
    schema: v1.schema.openAPIV3Schema as JSONSchemaProps,
    printerColumns: Array.isArray(v1.additionalPrinterColumns)
      ? (v1.additionalPrinterColumns as PrinterColumn[])
      : DEFAULT_LWS_PRINTER_COLUMNS,
    shortNames: Array.isArray(names.shortNames) ? (names.shortNames as string[]) : ['lws'],
    source,
  };
}

const cache = new Map<string, LwsCrd>();

/** `crdPath`: explicit file; `false`: always the condensed schema; undefined: search. */
export function loadLwsCrd(crdPath?: string | false): LwsCrd {
  const key = crdPath === false ? '<condensed>' : (crdPath ?? '<search>');
  const hit = cache.get(key);
  if (hit) return hit;
  let crd: LwsCrd | undefined;
  if (crdPath !== false) {
    const candidates = crdPath ? [crdPath] : crdCandidates();
    for (const file of candidates) {
      if (fs.existsSync(file)) {
        crd = parseCrd(fs.readFileSync(file, 'utf8'), file);
        break;
      }
    }
    if (!crd && crdPath) throw new Error(`LWS CRD not found at ${crdPath}`);
  }
  crd ??= {
    schema: CONDENSED_LWS_SCHEMA,
    printerColumns: DEFAULT_LWS_PRINTER_COLUMNS,
    shortNames: ['lws'],
    source: 'condensed',
  };
  cache.set(key, crd);
  return crd;
}
