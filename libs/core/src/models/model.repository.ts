import { Injectable } from '@nestjs/common';
import { newId } from '@troupe/common';
import { Prisma, PrismaService } from '@troupe/db';
import { TenantScope } from '../auth/principal';

const versionWithFiles = { include: { model: true, files: { orderBy: { path: 'asc' as const } } } } as const;
export type VersionRow = Prisma.ModelVersionGetPayload<typeof versionWithFiles>;
export type ModelRow = Prisma.ModelGetPayload<{ include: { versions: true } }>;

/** The only code that touches models, model_versions and model_files. Every read names the project. */
@Injectable()
export class ModelRepository {
  constructor(private readonly prisma: PrismaService) {}

  createModel(projectId: string, name: string, description: string | null): Promise<ModelRow> {
    return this.prisma.model.create({
      data: { id: newId(), projectId, name, description },
      include: { versions: true },
    });
  }

  listModels(scope: TenantScope, page: { limit: number; offset: number }): Promise<ModelRow[]> {
    return this.prisma.model.findMany({
      where: scope.kind === 'all' ? {} : { projectId: scope.projectId },
      include: { versions: { orderBy: { createdAt: 'asc' } } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.limit,
      skip: page.offset,
    });
  }

  findModel(projectId: string, name: string): Promise<ModelRow | null> {
    return this.prisma.model.findUnique({
      where: { projectId_name: { projectId, name } },
      include: { versions: { orderBy: { createdAt: 'asc' } } },
    });
  }

  async deleteModel(projectId: string, id: string): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.inferenceService.deleteMany({
        where: { modelVersion: { modelId: id }, projectId, phase: 'DELETED' },
      }),
      this.prisma.model.deleteMany({ where: { id, projectId } }),
    ]);
  }

  createVersion(projectId: string, modelId: string, version: string): Promise<VersionRow> {
    return this.prisma.modelVersion.create({
      data: { id: newId(), projectId, modelId, version },
      ...versionWithFiles,
    });
  }

  findVersion(projectId: string, model: string, version: string): Promise<VersionRow | null> {
    return this.prisma.modelVersion.findFirst({
      where: { projectId, version, model: { projectId, name: model } },
      ...versionWithFiles,
    });
  }

  /** Verification reads a version by id: it runs in the worker, after the tenant check of finalize. */
  findVersionById(id: string): Promise<VersionRow | null> {
    return this.prisma.modelVersion.findUnique({ where: { id }, ...versionWithFiles });
  }

  /** Deletes a version; services that served it and are DELETED go with it (their history too). */
  async deleteVersion(projectId: string, id: string): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.inferenceService.deleteMany({ where: { modelVersionId: id, projectId, phase: 'DELETED' } }),
      this.prisma.modelVersion.deleteMany({ where: { id, projectId } }),
    ]);
  }

  /** Moves a version between states only from the expected ones; false when it was not in them. */
  async transition(
    id: string,
    from: ('UPLOADING' | 'VERIFYING' | 'READY' | 'FAILED')[],
    data: Prisma.ModelVersionUpdateManyMutationInput,
  ): Promise<boolean> {
    const { count } = await this.prisma.modelVersion.updateMany({ where: { id, state: { in: from } }, data });
    return count === 1;
  }

  async upsertFile(versionId: string, path: string, size: number, sha256: string): Promise<void> {
    await this.prisma.modelFile.upsert({
      where: { versionId_path: { versionId, path } },
      create: { id: newId(), versionId, path, size: BigInt(size), sha256 },
      update: { size: BigInt(size), sha256, createdAt: new Date() },
    });
  }

  /** Live (not DELETED) inference services serving any of these versions. */
  countServicesUsing(versionIds: string[]): Promise<number> {
    return this.prisma.inferenceService.count({
      where: { modelVersionId: { in: versionIds }, phase: { not: 'DELETED' } },
    });
  }

  /** Bytes the version holds, not counting `exceptPath` (a file about to be replaced). */
  async versionBytes(versionId: string, exceptPath?: string): Promise<number> {
    const agg = await this.prisma.modelFile.aggregate({
      where: { versionId, ...(exceptPath ? { NOT: { path: exceptPath } } : {}) },
      _sum: { size: true },
    });
    return Number(agg._sum.size ?? 0n);
  }
}
