import { Injectable } from '@nestjs/common';
import { ApiKey } from '@troupe/db';

interface Entry {
  row: ApiKey | null;
  expiresAt: number;
  /**
   * The key that last matched `row.hash` while this entry lives: the next request with the same key
   * is compared to it in constant time instead of being hashed again. Gone with the entry (TTL,
   * revocation).
   */
  verified?: Buffer;
}

/**
 * Key rows by prefix, kept for a short TTL so that authentication does not query the database on
 * every request. Bounded (oldest entries dropped first); misses are cached too so that a flood of
 * random keys cannot turn into a flood of queries. Revocation evicts at once.
 */
@Injectable()
export class ApiKeyCache {
  private readonly entries = new Map<string, Entry>();
  ttlMs = 10_000;
  maxEntries = 10_000;

  get(prefix: string, now = Date.now()): Entry | undefined {
    const entry = this.entries.get(prefix);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(prefix);
      return undefined;
    }
    return entry;
  }

  set(prefix: string, row: ApiKey | null, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(prefix);
    this.entries.set(prefix, { row, expiresAt: now + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  evict(prefix: string): void {
    this.entries.delete(prefix);
  }

  clear(): void {
    this.entries.clear();
  }
}
