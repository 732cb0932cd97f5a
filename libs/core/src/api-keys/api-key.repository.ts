import { Injectable } from '@nestjs/common';
import { newId } from '@troupe/common';
import { ApiKey, ApiKeyRole, PrismaService } from '@troupe/db';
import { TenantScope } from '../auth/principal';

function tenantWhere(scope: TenantScope) {
  return scope.kind === 'all' ? {} : { projectId: scope.projectId };
}

/** The only code that touches the api_keys table. */
@Injectable()
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: {
    name: string;
    role: ApiKeyRole;
    projectId: string | null;
    prefix: string;
    hash: string;
    expiresAt: Date | null;
  }): Promise<ApiKey> {
    return this.prisma.apiKey.create({ data: { id: newId(), ...data } });
  }

  list(scope: TenantScope, page: { limit: number; offset: number }): Promise<ApiKey[]> {
    return this.prisma.apiKey.findMany({
      where: tenantWhere(scope),
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.limit,
      skip: page.offset,
    });
  }

  findById(scope: TenantScope, id: string): Promise<ApiKey | null> {
    return this.prisma.apiKey.findFirst({ where: { id, ...tenantWhere(scope) } });
  }

  /** Authentication lookup: by the public prefix, before any tenant is known. */
  findByPrefix(prefix: string): Promise<ApiKey | null> {
    return this.prisma.apiKey.findUnique({ where: { prefix } });
  }

  async revoke(scope: TenantScope, id: string, at: Date): Promise<ApiKey | null> {
    const { count } = await this.prisma.apiKey.updateMany({
      where: { id, revokedAt: null, ...tenantWhere(scope) },
      data: { revokedAt: at },
    });
    if (count === 0) return this.findById(scope, id);
    return this.findById(scope, id);
  }

  async touchLastUsed(id: string, at: Date): Promise<void> {
    await this.prisma.apiKey.updateMany({ where: { id }, data: { lastUsedAt: at } });
  }

  async deleteRevokedBefore(cutoff: Date): Promise<number> {
    const { count } = await this.prisma.apiKey.deleteMany({ where: { revokedAt: { lt: cutoff } } });
    return count;
  }
}
