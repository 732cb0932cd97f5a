// meta.k8s.io/v1 Table output (what `kubectl get` asks for).

import type { KObject } from '../types/meta';
import { humanDuration } from '../util/duration';

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export const col = (
  name: string,
  type = 'string',
  priority = 0,
  format = '',
  description = '',
): TableColumn => ({
  name,
  type,
  format,
  description,
  priority,
});

export const NAME_COLUMN = col('Name', 'string', 0, 'name', 'Name must be unique within a namespace.');
export const AGE_COLUMN = col(
  'Age',
  'string',
  0,
  '',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
);

export function age(obj: KObject, now: number): string {
  const ts = obj.metadata.creationTimestamp;
  return ts ? humanDuration(now - Date.parse(ts)) : '<unknown>';
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumn[];
  rows: { cells: unknown[]; object: unknown }[];
}

export function partialMetadata(obj: KObject): unknown {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function buildTable(
  columns: TableColumn[],
  cells: (obj: KObject, now: number) => unknown[],
  items: KObject[],
  includeObject: string,
  resourceVersion: string,
  withColumns = true,
): Table {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: withColumns ? columns : [],
    rows: items.map((o) => ({
      cells: cells(o, now),
      object: includeObject === 'None' ? undefined : includeObject === 'Object' ? o : partialMetadata(o),
    })),
  };
}
