import { timingSafeEqual } from 'node:crypto';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { RedisService } from '@troupe/queue';
import { ApiKeyCache } from '../api-keys/api-key.cache';
import { ApiKeyRepository } from '../api-keys/api-key.repository';
import { API_KEY_REVOKED_CHANNEL } from '../api-keys/api-key.types';
import { keyMatchesHash, keyPrefix } from './api-key.codec';
import { Principal } from './principal';

const LAST_USED_RESOLUTION_MS = 60_000;

/** Turns a presented key into a Principal, or null. Used by the API guard and the gateway alike. */
@Injectable()
export class AuthService implements OnModuleInit {
  private readonly logger = new Logger(AuthService.name);
  private readonly adminKey?: Buffer;
  private readonly lastTouched = new Map<string, number>();

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly keys: ApiKeyRepository,
    private readonly cache: ApiKeyCache,
    private readonly redis: RedisService,
  ) {
    this.adminKey = config.auth.adminKey ? Buffer.from(config.auth.adminKey, 'utf8') : undefined;
    cache.ttlMs = config.auth.cacheTtlMs;
  }

  async onModuleInit(): Promise<void> {
    await this.redis.subscribe(API_KEY_REVOKED_CHANNEL, (prefix) => this.cache.evict(prefix));
  }

  async verify(token: string, now = new Date()): Promise<Principal | null> {
    const prefix = keyPrefix(token);
    if (!prefix) return null;

    const presented = Buffer.from(token, 'utf8');
    if (sameBytes(presented, this.adminKey)) {
      return { keyId: null, keyName: 'bootstrap admin (TROUPE_ADMIN_KEY)', role: 'admin', projectId: null };
    }

    let entry = this.cache.get(prefix);
    let row = entry?.row;
    if (entry === undefined) {
      row = await this.keys.findByPrefix(prefix);
      this.cache.set(prefix, row);
      entry = this.cache.get(prefix); // undefined when caching is off (AUTH_CACHE_TTL_MS=0)
    }
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) return null;
    // The key is hashed once per cache entry; later requests with it compare bytes in constant time.
    if (!sameBytes(presented, entry?.verified)) {
      if (!keyMatchesHash(token, row.hash)) return null;
      if (entry) entry.verified = presented;
    }

    this.noteUse(row.id, now);
    return { keyId: row.id, keyName: row.name, role: row.role, projectId: row.projectId };
  }

  /** Records last use at minute resolution, off the request path: at most one write per key a minute. */
  private noteUse(keyId: string, now: Date): void {
    const last = this.lastTouched.get(keyId) ?? 0;
    if (now.getTime() - last < LAST_USED_RESOLUTION_MS) return;
    this.lastTouched.set(keyId, now.getTime());
    this.keys
      .touchLastUsed(keyId, now)
      .catch((err: Error) => this.logger.warn(`lastUsedAt not recorded: ${err.message}`));
  }
}

/** Constant-time equality (lengths compared first: keys have a fixed, public length). */
function sameBytes(a: Buffer, b: Buffer | undefined): boolean {
  return b !== undefined && a.length === b.length && timingSafeEqual(a, b);
}
