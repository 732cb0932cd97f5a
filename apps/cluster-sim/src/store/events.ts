import type { KObject } from '../types/meta';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  /** Resource id (see ResourceDef.id), e.g. "pods" or "leaderworkerset.x-k8s.io/leaderworkersets". */
  resource: string;
  object: KObject;
  /** The object before this change (MODIFIED and DELETED). */
  previous?: KObject;
  rv: number;
}
