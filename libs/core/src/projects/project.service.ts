import { Injectable, Logger } from '@nestjs/common';
import { isUuid } from '@troupe/common';
import { mapPrismaError, Project } from '@troupe/db';
import { RedisService } from '@troupe/queue';
import { Principal, scopeOf } from '../auth/principal';
import { ProjectException } from './project.exception';
import {
  mergeLimits,
  parseStoredLimits,
  PROJECT_LIMITS_CHANGED_CHANNEL,
  ProjectLimits,
} from './project-limits';
import { ProjectRepository } from './project.repository';
import { CreateProjectInput, ProjectView } from './project.types';

@Injectable()
export class ProjectService {
  private readonly logger = new Logger(ProjectService.name);

  constructor(
    private readonly projects: ProjectRepository,
    private readonly redis: RedisService,
  ) {}

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

  /**
   * Changes the gateway limits of a project (admins only: the controller checks the role). Given
   * fields replace the stored ones, null resets a field (or, for the whole object, all of them) to the
   * platform default. Gateway processes are told at once; they also reload on a timer.
   */
  async setLimits(
    principal: Principal,
    id: string,
    patch: Partial<ProjectLimits> | null,
  ): Promise<ProjectView> {
    const current = isUuid(id) ? await this.projects.findById(scopeOf(principal), id) : null;
    if (!current) throw ProjectException.notFound();
    const next = mergeLimits(parseStoredLimits(current.limits), patch);
    const updated = await this.projects.updateLimits(id, next);
    if (!updated) throw ProjectException.notFound();
    await this.redis
      .publish(PROJECT_LIMITS_CHANGED_CHANNEL, JSON.stringify({ projectId: id }))
      .catch((err: Error) =>
        this.logger.warn(
          `could not announce new limits of ${id} (gateways reload on a timer): ${err.message}`,
        ),
      );
    return this.map(updated);
  }

  /** Every project's stored limits (for the gateway's in-memory table), or only those of `ids`. */
  async limitsByProject(ids?: string[]): Promise<Map<string, ProjectLimits>> {
    const rows = await this.projects.listLimits(ids);
    return new Map(rows.map((r) => [r.id, parseStoredLimits(r.limits)]));
  }

  private map(p: Project): ProjectView {
    return {
      id: p.id,
      name: p.name,
      displayName: p.displayName,
      createdAt: p.createdAt.toISOString(),
      limits: parseStoredLimits(p.limits),
    };
  }
}
