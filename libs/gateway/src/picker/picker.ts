// Which ready group gets a request. Pure: the caller passes the load it knows, the picker decides.

export interface PickCandidate {
  /** Stable identity of the group's leader endpoint (e.g. pod name and address). */
  id: string;
  /** Requests this gateway process has in flight on the endpoint. */
  outstanding: number;
  /** The engine's waiting queue (`vllm:num_requests_waiting`) when known. */
  waiting?: number;
}

export interface PickInput<C extends PickCandidate> {
  candidates: readonly C[];
  /** Endpoints not to use (a retry goes to another group). */
  exclude?: ReadonlySet<string>;
  /** Session affinity key (header or `user` field): the same key keeps its group while it is not overloaded. */
  affinityKey?: string;
  /**
   * A counter the caller increments per pick: among candidates tied on every measure it chooses which
   * one, so that equal groups share load instead of the first one taking everything.
   */
  tick: number;
  /**
   * Bounded load for affinity: a key's preferred group is skipped when its outstanding requests would
   * exceed this factor times the average (consistent hashing with bounded loads). Default 1.25.
   */
  affinityLoadFactor?: number;
}

/**
 * Least outstanding requests; ties broken by the engine's waiting queue (an engine whose queue is not
 * known yet is taken as idle), then by `tick`. With an affinity key, candidates are ranked by
 * rendezvous hashing of (key, id) and the first whose load stays within the bound is chosen, so a
 * session sticks to one group, moves only when its group goes away, and cannot pile onto a hot group.
 */
export function pickEndpoint<C extends PickCandidate>(input: PickInput<C>): C | undefined {
  const { exclude } = input;
  const live = exclude?.size ? input.candidates.filter((c) => !exclude.has(c.id)) : input.candidates;
  if (live.length === 0) return undefined;
  if (live.length === 1) return live[0];

  const key = input.affinityKey;
  if (key !== undefined) {
    const total = live.reduce((sum, c) => sum + c.outstanding, 0);
    const bound = Math.ceil(((total + 1) / live.length) * (input.affinityLoadFactor ?? 1.25));
    const ranked = live
      .map((c) => ({ c, score: rendezvousScore(key, c.id) }))
      .sort((a, b) => b.score - a.score || (a.c.id < b.c.id ? -1 : 1));
    for (const { c } of ranked) if (c.outstanding + 1 <= bound) return c;
    // Every group is above the bound (cannot happen with a factor >= 1): fall through to least loaded.
  }

  let best: C[] = [];
  let bestOutstanding = Infinity;
  let bestWaiting = Infinity;
  for (const c of live) {
    const waiting = c.waiting ?? 0;
    if (c.outstanding < bestOutstanding || (c.outstanding === bestOutstanding && waiting < bestWaiting)) {
      best = [c];
      bestOutstanding = c.outstanding;
      bestWaiting = waiting;
    } else if (c.outstanding === bestOutstanding && waiting === bestWaiting) {
      best.push(c);
    }
  }
  return best[Math.abs(input.tick) % best.length];
}

/** 32-bit FNV-1a of the key and the candidate, mixed (murmur3 finaliser) so that close ids spread. */
export function rendezvousScore(key: string, id: string): number {
  let h = 0x811c9dc5;
  const feed = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  };
  feed(key);
  h ^= 0xff; // separator, so that ("ab", "c") and ("a", "bc") differ
  h = Math.imul(h, 0x01000193);
  feed(id);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
