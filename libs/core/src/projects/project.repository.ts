import { Injectable } from '@nestjs/common';
import { newId } from '@troupe/common';
import { Prisma, PrismaService, Project } from '@troupe/db';
import { TenantScope } from '../auth/principal';
import { ProjectLimits } from './project-limits';

/** The only code that touches the projects table. */
@Injectable()
export class ProjectRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: { name: string; displayName: string }): Promise<Project> {
    return this.prisma.project.create({ data: { id: newId(), ...data } });
  }

  list(scope: TenantScope, page: { limit: number; offset: number }): Promise<Project[]> {
    return this.prisma.project.findMany({
      where: scope.kind === 'all' ? {} : { id: scope.projectId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.limit,
      skip: page.offset,
    });
  }

  findById(scope: TenantScope, id: string): Promise<Project | null> {
    if (scope.kind === 'project' && scope.projectId !== id) return Promise.resolve(null);
    return this.prisma.project.findUnique({ where: { id } });
  }

  /** Admin only (the controller checks the role): stores the limits, null when none is set. */
  async updateLimits(id: string, limits: ProjectLimits): Promise<Project | null> {
    const anySet = Object.values(limits).some((v) => v !== null);
    const { count } = await this.prisma.project.updateMany({
      where: { id },
      data: { limits: anySet ? { ...limits } : Prisma.DbNull },
    });
    return count === 0 ? null : this.prisma.project.findUnique({ where: { id } });
  }

  /**
   * Gateway processes keep every project's limits in memory: a system read, before any tenant is
   * known (like the key lookup by prefix). `ids` narrows it to some projects.
   */
  listLimits(ids?: string[]): Promise<{ id: string; limits: Prisma.JsonValue }[]> {
    return this.prisma.project.findMany({
      where: ids ? { id: { in: ids } } : {},
      select: { id: true, limits: true },
    });
  }
}
