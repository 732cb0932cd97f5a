// Resource definitions: what the API serves, with per-kind admission and printing hooks.

import type { KObject } from '../types/meta';
import type { FieldError } from './errors';
import type { NameRule } from './object-meta';
import type { TableColumn } from './table';

export interface AdmissionContext {
  operation: 'CREATE' | 'UPDATE';
  old?: KObject;
  subresource?: string;
  /** Write from an in-process controller (scheduler, kubelet, LWS controller). */
  internal: boolean;
  /** Strict | Warn | Ignore (query parameter fieldValidation). */
  fieldValidation: string;
  warnings: string[];
}

export interface ScaleSpec {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface ResourceDef {
  /** Store key: plural for the core group, "group/plural" otherwise. */
  id: string;
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories?: string[];
  verbs: string[];
  statusSubresource: boolean;
  scale?: ScaleSpec;
  /** Custom resource: strategic merge patch is refused; resourceVersion required on update. */
  crd: boolean;
  /** metadata.generation is maintained (bumped on spec changes). */
  generation: boolean;
  nameRule: NameRule;
  /** Field selectors besides metadata.name and metadata.namespace. */
  fieldSelectors: string[];
  /** Defaulting / mutation (returns the object to store). */
  admit?(obj: KObject, ctx: AdmissionContext): KObject;
  /** Fields a structural schema does not declare (custom resources), as "spec.foo" paths. */
  unknownFields?(obj: KObject): string[];
  /** Validation; only called when admit did not throw. */
  validate?(obj: KObject, ctx: AdmissionContext): FieldError[];
  columns?: TableColumn[];
  /** Cells for one object, matching `columns`. */
  cells?(obj: KObject, now: number): unknown[];
  /** Extra resources served under this one (e.g. pods/log). */
  extraSubresources?: string[];
}

export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export class Registry {
  private readonly byId = new Map<string, ResourceDef>();

  add(def: ResourceDef): void {
    this.byId.set(def.id, def);
  }

  all(): ResourceDef[] {
    return [...this.byId.values()];
  }

  byIdOrThrow(id: string): ResourceDef {
    const def = this.byId.get(id);
    if (!def) throw new Error(`unknown resource ${id}`);
    return def;
  }

  find(group: string, version: string, plural: string): ResourceDef | undefined {
    const def = this.byId.get(group ? `${group}/${plural}` : plural);
    return def && def.version === version ? def : undefined;
  }

  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const d of this.byId.values()) {
      if (!d.group) continue;
      const versions = out.get(d.group) ?? [];
      if (!versions.includes(d.version)) versions.push(d.version);
      out.set(d.group, versions);
    }
    return out;
  }

  inGroupVersion(group: string, version: string): ResourceDef[] {
    return this.all().filter((d) => d.group === group && d.version === version);
  }
}
