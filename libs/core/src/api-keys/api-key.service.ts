import { Injectable } from '@nestjs/common';
import { isUuid } from '@troupe/common';
import { ApiKey } from '@troupe/db';
import { RedisService } from '@troupe/queue';
import { generateApiKey } from '../auth/api-key.codec';
import { Principal, scopeOf } from '../auth/principal';
import { ProjectException } from '../projects/project.exception';
import { ProjectRepository } from '../projects/project.repository';
import { ApiKeyException } from './api-key.exception';
import { ApiKeyRepository } from './api-key.repository';
import { API_KEY_REVOKED_CHANNEL, ApiKeyView, CreateApiKeyInput, CreatedApiKey } from './api-key.types';
import { ApiKeyCache } from './api-key.cache';

@Injectable()
export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly projects: ProjectRepository,
    private readonly cache: ApiKeyCache,
    private readonly redis: RedisService,
  ) {}

  /**
   * Admins create any key; members create member and inference keys for their own project only.
   * A project the caller cannot see answers 404, as if it did not exist.
   */
  async create(principal: Principal, input: CreateApiKeyInput, now = new Date()): Promise<CreatedApiKey> {
    if (principal.role !== 'admin' && input.role === 'admin')
      throw ApiKeyException.roleNotGrantable(input.role);
    if (input.expiresAt && input.expiresAt <= now) throw ApiKeyException.expiryInPast();

    let projectId: string | null = null;
    if (input.role === 'admin') {
      if (input.projectId) throw ApiKeyException.adminKeyWithProject();
    } else {
      projectId = input.projectId ?? principal.projectId;
      if (!projectId) throw ApiKeyException.projectRequired();
      const project = isUuid(projectId) ? await this.projects.findById(scopeOf(principal), projectId) : null;
      if (!project) throw ProjectException.notFound();
    }

    const generated = generateApiKey();
    const row = await this.keys.create({
      name: input.name,
      role: input.role,
      projectId,
      prefix: generated.prefix,
      hash: generated.hash,
      expiresAt: input.expiresAt ?? null,
    });
    return { ...this.map(row), key: generated.key };
  }

  async list(principal: Principal, page: { limit: number; offset: number }): Promise<ApiKeyView[]> {
    const rows = await this.keys.list(scopeOf(principal), page);
    return rows.map((k) => this.map(k));
  }

  async get(principal: Principal, id: string): Promise<ApiKeyView> {
    const row = isUuid(id) ? await this.keys.findById(scopeOf(principal), id) : null;
    if (!row) throw ApiKeyException.notFound();
    return this.map(row);
  }

  /** Idempotent; takes effect at once in this process and, through Redis, in every other one. */
  async revoke(principal: Principal, id: string): Promise<ApiKeyView> {
    const row = isUuid(id) ? await this.keys.revoke(scopeOf(principal), id, new Date()) : null;
    if (!row) throw ApiKeyException.notFound();
    this.cache.evict(row.prefix);
    await this.redis.publish(API_KEY_REVOKED_CHANNEL, row.prefix);
    return this.map(row);
  }

  /** Deletes keys revoked more than `retentionDays` ago; returns how many. */
  pruneRevoked(retentionDays: number, now = new Date()): Promise<number> {
    return this.keys.deleteRevokedBefore(new Date(now.getTime() - retentionDays * 86_400_000));
  }

  private map(k: ApiKey): ApiKeyView {
    return {
      id: k.id,
      name: k.name,
      role: k.role,
      projectId: k.projectId,
      prefix: k.prefix,
      createdAt: k.createdAt.toISOString(),
      expiresAt: k.expiresAt?.toISOString() ?? null,
      revokedAt: k.revokedAt?.toISOString() ?? null,
      lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    };
  }
}
