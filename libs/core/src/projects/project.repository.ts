import { Injectable } from '@nestjs/common';
import { newId } from '@troupe/common';
import { PrismaService, Project } from '@troupe/db';
import { TenantScope } from '../auth/principal';

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
}
