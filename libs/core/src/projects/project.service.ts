import { Injectable } from '@nestjs/common';
import { isUuid } from '@troupe/common';
import { mapPrismaError, Project } from '@troupe/db';
import { Principal, scopeOf } from '../auth/principal';
import { ProjectException } from './project.exception';
import { ProjectRepository } from './project.repository';
import { CreateProjectInput, ProjectView } from './project.types';

@Injectable()
export class ProjectService {
  constructor(private readonly projects: ProjectRepository) {}

  async create(input: CreateProjectInput): Promise<ProjectView> {
    try {
      const project = await this.projects.create({
        name: input.name,
        displayName: input.displayName ?? input.name,
      });
      return this.map(project);
    } catch (err) {
      mapPrismaError(err, { uniqueViolation: () => ProjectException.nameTaken(input.name) });
    }
  }

  async list(principal: Principal, page: { limit: number; offset: number }): Promise<ProjectView[]> {
    const rows = await this.projects.list(scopeOf(principal), page);
    return rows.map((p) => this.map(p));
  }

  /** 404 when the project does not exist or the caller may not see it: the two are indistinguishable. */
  async get(principal: Principal, id: string): Promise<ProjectView> {
    const project = isUuid(id) ? await this.projects.findById(scopeOf(principal), id) : null;
    if (!project) throw ProjectException.notFound();
    return this.map(project);
  }

  private map(p: Project): ProjectView {
    return { id: p.id, name: p.name, displayName: p.displayName, createdAt: p.createdAt.toISOString() };
  }
}
