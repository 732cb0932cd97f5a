import { describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '@troupe/config';
import type { ApiKey } from '@troupe/db';
import type { RedisService } from '@troupe/queue';
import { ApiKeyCache } from '../api-keys/api-key.cache';
import type { ApiKeyRepository } from '../api-keys/api-key.repository';
import { generateApiKey, KEY_MARKER } from './api-key.codec';
import { AuthService } from './auth.service';

function setup(ttlMs = 10_000) {
  const key = generateApiKey();
  const row = {
    id: '11111111-1111-1111-1111-111111111111',
    projectId: '22222222-2222-2222-2222-222222222222',
    name: 'app',
    role: 'inference',
    prefix: key.prefix,
    hash: key.hash,
    createdAt: new Date(),
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
  } as ApiKey;
  const keys = {
    findByPrefix: vi.fn(async (prefix: string) => (prefix === key.prefix ? row : null)),
    touchLastUsed: vi.fn(async () => undefined),
  };
  const cache = new ApiKeyCache();
  const admin = generateApiKey().key;
  const auth = new AuthService(
    { auth: { adminKey: admin, cacheTtlMs: ttlMs } } as AppConfig,
    keys as unknown as ApiKeyRepository,
    cache,
    { subscribe: vi.fn() } as unknown as RedisService,
  );
  return { auth, key, row, keys, cache, admin };
}

describe('AuthService.verify', () => {
  it('accepts the key, then again from the cache without a query', async () => {
    const { auth, key, keys } = setup();
    expect((await auth.verify(key.key))?.keyId).toBe('11111111-1111-1111-1111-111111111111');
    expect((await auth.verify(key.key))?.role).toBe('inference');
    expect(keys.findByPrefix).toHaveBeenCalledTimes(1);
  });

  it('refuses another key with the same prefix after the real one was verified', async () => {
    const { auth, key } = setup();
    expect(await auth.verify(key.key)).not.toBeNull();
    const last = key.key.at(-1) === 'A' ? 'B' : 'A';
    const forged = key.key.slice(0, -1) + last;
    expect(await auth.verify(forged)).toBeNull();
    expect(await auth.verify(key.key)).not.toBeNull();
  });

  it('refuses a revoked key at once after the cache entry is evicted, and an unknown one', async () => {
    const { auth, key, row, cache } = setup();
    expect(await auth.verify(key.key)).not.toBeNull();
    row.revokedAt = new Date();
    cache.evict(key.prefix);
    expect(await auth.verify(key.key)).toBeNull();
    expect(await auth.verify(`${KEY_MARKER}${'x'.repeat(43)}`)).toBeNull();
  });

  it('works with caching off, and knows the bootstrap admin key', async () => {
    const { auth, key, keys, admin } = setup(0);
    expect(await auth.verify(key.key)).not.toBeNull();
    expect(await auth.verify(key.key)).not.toBeNull();
    expect(keys.findByPrefix).toHaveBeenCalledTimes(2);
    expect((await auth.verify(admin))?.role).toBe('admin');
    expect(await auth.verify(admin.slice(0, -1))).toBeNull();
  });
});
