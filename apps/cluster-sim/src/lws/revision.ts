// The template revision of a LeaderWorkerSet: a hash of what, when changed, triggers a rolling update.

import type { LeaderWorkerSet } from '../types/lws';
import { shortHash } from '../util/hash';

export function templateRevision(lws: LeaderWorkerSet): string {
  return shortHash({
    leaderWorkerTemplate: lws.spec.leaderWorkerTemplate,
    networkConfig: lws.spec.networkConfig ?? null,
  });
}
