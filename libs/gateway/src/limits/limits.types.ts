import type { LimitReason } from './limit-math';

/** Who is calling the gateway: the API key (null for the bootstrap admin key) and its project. */
export interface CallerRef {
  keyId: string | null;
  projectId: string;
}

export type Admission =
  /** release() frees the concurrent-stream slot (idempotent; call it when the response ends, however it ends) */
  | { ok: true; release: () => void }
  | { ok: false; reason: LimitReason; retryAfterSeconds: number; message: string };
