// Cache-aware choice of a group: the group that already holds the longest part of the prompt's prefix
// (by the PrefixIndex's estimate), unless that would pile load onto it. Pure.

import { pickEndpoint, type PickCandidate } from './picker';

/** Why a group was chosen (the `reason` label of troupe_gateway_routing_decisions_total). */
export type RoutingReason =
  | 'prefix_match' // the chosen group holds the longest cached prefix among groups within the load bound
  | 'load_balance' // a group held a longer prefix but was above the load bound
  | 'new_prefix' // no group holds any of it: least outstanding, ties by the prefix's hash
  | 'least_outstanding' // strategy least-outstanding, or a prompt shorter than one block
  | 'affinity'; // an affinity key chose (rendezvous with bounded load)

export interface CacheAwareInput<C extends PickCandidate> {
  /** Groups that may take the request (exclusions already applied), at least one. */
  candidates: readonly C[];
  /** Per candidate (same order), leading prompt blocks it is estimated to hold. */
  matched: readonly number[];
  /** Hash of the prompt's first block, when it has one: places new prefixes the same in every process. */
  firstBlock?: number;
  tick: number;
  /**
   * Load bound: a group may take the request while its outstanding requests, this one included, stay
   * within `balanceAbs` of the least loaded group's (default 2) or within `loadFactor` times the mean
   * (default 1.25), whichever allows more.
   */
  balanceAbs?: number;
  loadFactor?: number;
}

export interface CacheAwareChoice<C> {
  candidate: C;
  reason: RoutingReason;
  /** Blocks the chosen group is estimated to hold. */
  matchedBlocks: number;
}

/**
 * Highest estimated cached prefix among the groups within the load bound; ties by outstanding
 * requests, then the engine's queue, then `tick`. The bound (SGLang's router and llm-d alike: load
 * wins once the imbalance passes a threshold) is max(least + balanceAbs, loadFactor x mean), so a hot
 * prefix fills its group up to the bound and then spills to the next best group, which then caches it
 * too. A prefix no group holds goes to a least loaded group chosen by rendezvous hashing of its first
 * block, so that gateway processes that share no index still place a new prefix on the same group
 * while load is even.
 */
export function pickCacheAware<C extends PickCandidate>(input: CacheAwareInput<C>): CacheAwareChoice<C> {
  const { candidates, matched } = input;
  const n = candidates.length;
  let total = 0;
  let least = Infinity;
  let bestAny = 0;
  for (let j = 0; j < n; j++) {
    const o = candidates[j].outstanding;
    total += o;
    if (o < least) least = o;
    if (matched[j] > bestAny) bestAny = matched[j];
  }
  const bound = Math.max(
    least + (input.balanceAbs ?? 2),
    Math.ceil(((total + 1) / n) * (input.loadFactor ?? 1.25)) - 1,
  );

  let best = -1;
  for (let j = 0; j < n; j++) {
    const c = candidates[j];
    if (c.outstanding > bound || matched[j] === 0) continue;
    if (best < 0 || better(c, matched[j], candidates[best], matched[best], j, best, input.tick, n)) best = j;
  }
  if (best >= 0) {
    return {
      candidate: candidates[best],
      reason: matched[best] < bestAny ? 'load_balance' : 'prefix_match',
      matchedBlocks: matched[best],
    };
  }
  if (bestAny > 0) {
    const c = pickEndpoint({ candidates, tick: input.tick }) as C;
    return { candidate: c, reason: 'load_balance', matchedBlocks: 0 };
  }
  if (input.firstBlock === undefined) {
    const c = pickEndpoint({ candidates, tick: input.tick }) as C;
    return { candidate: c, reason: 'least_outstanding', matchedBlocks: 0 };
  }
  let chosen = -1;
  let chosenScore = -1;
  for (let j = 0; j < n; j++) {
    if (candidates[j].outstanding !== least) continue;
    const s = blockScore(input.firstBlock, candidates[j].id);
    if (s > chosenScore) {
      chosen = j;
      chosenScore = s;
    }
  }
  return { candidate: candidates[chosen], reason: 'new_prefix', matchedBlocks: 0 };
}

function better<C extends PickCandidate>(
  a: C,
  am: number,
  b: C,
  bm: number,
  ai: number,
  bi: number,
  tick: number,
  n: number,
): boolean {
  if (am !== bm) return am > bm;
  if (a.outstanding !== b.outstanding) return a.outstanding < b.outstanding;
  const aw = a.waiting ?? 0;
  const bw = b.waiting ?? 0;
  if (aw !== bw) return aw < bw;
  // Rotate ties by tick so equal groups share the load.
  return (((ai - tick) % n) + n) % n < (((bi - tick) % n) + n) % n;
}

/** Rendezvous score of (block hash, group id): murmur3-style mix of FNV-1a over the id. */
export function blockScore(block: number, id: string): number {
  let h = (block ^ (block / 0x100000000)) >>> 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
