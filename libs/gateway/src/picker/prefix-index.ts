// Which group was recently sent which prompt prefix, per service and gateway process: an
// approximation of the groups' prefix caches built from this process's own routing decisions. Bounded
// (least recently used block dropped first, like the engine's cache) and aged (an entry older than
// the TTL counts as evicted by the engine). No I/O; the caller passes the time.

interface Entry {
  /** Groups the prefix ending with this block was sent to, and when (ms), in parallel arrays. */
  groups: string[];
  at: number[];
}

export interface PrefixIndexOptions {
  /** Blocks kept at most (over all groups). Default 65 536 (about 4 MiB at 64 characters a block). */
  maxBlocks?: number;
  /** An entry not refreshed for this long is taken as gone from the engine's cache. Default 10 min. */
  ttlMs?: number;
}

export class PrefixIndex {
  /** Block hash → entry, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<number, Entry>();
  readonly maxBlocks: number;
  readonly ttlMs: number;

  constructor(opts: PrefixIndexOptions = {}) {
    this.maxBlocks = opts.maxBlocks ?? 65_536;
    this.ttlMs = opts.ttlMs ?? 600_000;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * For each of `groups`, how many leading blocks of `blocks` it holds (fresh at `now`), into `out`
   * (same order as `groups`). Stops at the first block no candidate holds: O(matched blocks x groups).
   */
  match(blocks: readonly number[], groups: readonly string[], now: number, out: number[]): void {
    const n = groups.length;
    for (let j = 0; j < n; j++) out[j] = 0;
    const oldest = now - this.ttlMs;
    for (let i = 0; i < blocks.length; i++) {
      const e = this.entries.get(blocks[i]);
      if (!e) return;
      let advanced = false;
      for (let j = 0; j < n; j++) {
        if (out[j] !== i) continue; // fell behind at an earlier block
        const k = e.groups.indexOf(groups[j]);
        if (k >= 0 && e.at[k] >= oldest) {
          out[j] = i + 1;
          advanced = true;
        }
      }
      if (!advanced) return;
    }
  }

  /** The prompt's blocks were sent to `group` at `now`. */
  record(blocks: readonly number[], group: string, now: number): void {
    const entries = this.entries;
    for (const h of blocks) {
      let e = entries.get(h);
      if (e) {
        entries.delete(h);
        const k = e.groups.indexOf(group);
        if (k >= 0) e.at[k] = now;
        else {
          e.groups.push(group);
          e.at.push(now);
        }
      } else e = { groups: [group], at: [now] };
      entries.set(h, e);
    }
    let over = entries.size - this.maxBlocks;
    if (over <= 0) return;
    for (const h of entries.keys()) {
      entries.delete(h);
      if (--over === 0) break;
    }
  }

  /** The group went away (unready, deleted): nothing it held is worth routing to any more. */
  dropGroup(group: string): void {
    for (const [h, e] of this.entries) {
      const k = e.groups.indexOf(group);
      if (k < 0) continue;
      if (e.groups.length === 1) this.entries.delete(h);
      else {
        e.groups.splice(k, 1);
        e.at.splice(k, 1);
      }
    }
  }

  /** Blocks held for `group` (tests, metrics). */
  blocksOf(group: string): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.groups.includes(group)) n++;
    return n;
  }
}
