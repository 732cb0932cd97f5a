import { Injectable, Logger } from '@nestjs/common';
import { ErrorCode } from '@troupe/common';
import { isPrismaError, mapPrismaError, PrismaErrorCode } from '@troupe/db';
import { QueueName, QueueProducer } from '@troupe/queue';
import { ObjectStorage, versionPrefix } from '@troupe/storage';
import { Principal, projectFor, scopeOf } from '../auth/principal';
import { ModelException } from './model.exception';
import { ModelRepository, ModelRow, VersionRow } from './model.repository';
import { ModelRef, ModelView, VersionView } from './model.types';
import { UploadRepository } from './upload.repository';
import { ModelMetrics } from './model.metrics';

export interface VerificationOutcome {
  ok: boolean;
  metadata?: unknown;
  reason?: string;
}

@Injectable()
export class ModelService {
  private readonly logger = new Logger(ModelService.name);

  constructor(
    private readonly models: ModelRepository,
    private readonly uploads: UploadRepository,
    private readonly storage: ObjectStorage,
    private readonly queues: QueueProducer,
    private readonly metrics: ModelMetrics,
  ) {}

  /** Resolves the project of a request; admin keys must name it. */
  ref(principal: Principal, name: string, projectId?: string): ModelRef {
    const project = projectFor(principal, projectId);
    if (!project) throw ModelException.projectRequired();
    return { projectId: project, name };
  }

  async create(
    principal: Principal,
    input: { name: string; description?: string; projectId?: string },
  ): Promise<ModelView> {
    const ref = this.ref(principal, input.name, input.projectId);
    try {
      return this.map(await this.models.createModel(ref.projectId, ref.name, input.description ?? null));
    } catch (err) {
      // A foreign-key failure means the named project does not exist (admins name projects by id).
      if (isPrismaError(err, PrismaErrorCode.ForeignKeyConstraintFailed))
        throw ModelException.notFound('Project');
      mapPrismaError(err, { uniqueViolation: () => ModelException.modelExists(input.name) });
    }
  }

  async list(
    principal: Principal,
    page: { limit: number; offset: number },
    projectId?: string,
  ): Promise<ModelView[]> {
    const scope = projectId
      ? { kind: 'project' as const, projectId: projectFor(principal, projectId)! }
      : scopeOf(principal);
    return (await this.models.listModels(scope, page)).map((m) => this.map(m));
  }

  async get(ref: ModelRef): Promise<ModelView> {
    return this.map(await this.requireModel(ref));
  }

  /** Deletes the model, its versions, open uploads and every stored object under it. */
  async delete(ref: ModelRef): Promise<void> {
    const model = await this.requireModel(ref);
    await this.refuseIfServed(
      model.versions.map((v) => v.id),
      `model "${ref.name}"`,
    );
    for (const v of model.versions) await this.abortOpenUploads(v.id);
    await this.storage.deletePrefix(`${ref.projectId}/${ref.name}/`);
    await this.models.deleteModel(ref.projectId, model.id);
  }

  async createVersion(ref: ModelRef, version: string): Promise<VersionView> {
    const model = await this.requireModel(ref);
    try {
      return this.mapVersion(await this.models.createVersion(ref.projectId, model.id, version));
    } catch (err) {
      mapPrismaError(err, { uniqueViolation: () => ModelException.versionExists(ref.name, version) });
    }
  }

  async getVersion(ref: ModelRef, version: string): Promise<VersionView> {
    return this.mapVersion(await this.requireVersion(ref, version));
  }

  async deleteVersion(ref: ModelRef, version: string): Promise<void> {
    const row = await this.requireVersion(ref, version);
    await this.refuseIfServed([row.id], `version "${version}"`);
    await this.abortOpenUploads(row.id);
    await this.storage.deletePrefix(versionPrefix(ref.projectId, ref.name, version));
    await this.models.deleteVersion(ref.projectId, row.id);
  }

  /**
   * UPLOADING (or FAILED, after fixing files) -> VERIFYING, and a verification job. Idempotent: a
   * version already VERIFYING gets its job enqueued again (same job id: duplicates collapse).
   */
  async finalize(ref: ModelRef, version: string): Promise<VersionView> {
    const row = await this.requireVersion(ref, version);
    if (row.state === 'READY') throw ModelException.versionNotWritable(version, row.state);
    const open = await this.uploads.countActive(row.id);
    if (open > 0) throw ModelException.uploadsInProgress(open);
    if (row.files.length === 0) throw ModelException.noFiles(version);
    const moved =
      row.state !== 'VERIFYING' &&
      (await this.models.transition(row.id, ['UPLOADING', 'FAILED'], {
        state: 'VERIFYING',
        failureReason: null,
      }));
    // Finished jobs are removed at once, so the job id collapses only concurrent duplicates and a
    // version finalized again after FAILED gets a new run.
    try {
      await this.queues.enqueue(
        QueueName.ModelVerification,
        'verify-version',
        { versionId: row.id },
        { jobId: row.id, removeOnComplete: true, removeOnFail: true },
      );
    } catch (err) {
      // No job will move it on: put the version back as it was, so it is not left VERIFYING forever.
      if (moved)
        await this.models
          .transition(row.id, ['VERIFYING'], { state: row.state, failureReason: row.failureReason })
          .catch(() => undefined);
      throw err;
    }
    return this.getVersion(ref, version);
  }

  /** Called by the verification job; only a VERIFYING version changes. */
  async recordVerification(versionId: string, outcome: VerificationOutcome): Promise<boolean> {
    const data = outcome.ok
      ? {
          state: 'READY' as const,
          metadata: outcome.metadata as object,
          verifiedAt: new Date(),
          failureReason: null,
        }
      : { state: 'FAILED' as const, failureReason: outcome.reason ?? 'verification failed' };
    const changed = await this.models.transition(versionId, ['VERIFYING'], data);
    if (changed) {
      this.metrics.verified(outcome.ok ? 'ready' : 'failed');
      this.logger.log(`version ${versionId} ${data.state}${outcome.ok ? '' : `: ${data.failureReason}`}`);
    }
    return changed;
  }

  async requireModel(ref: ModelRef): Promise<ModelRow> {
    const model = await this.models.findModel(ref.projectId, ref.name);
    if (!model) throw ModelException.modelNotFound(ref.name);
    return model;
  }

  async requireVersion(ref: ModelRef, version: string): Promise<VersionRow> {
    const row = await this.models.findVersion(ref.projectId, ref.name, version);
    if (!row) throw ModelException.versionNotFound(ref.name, version);
    return row;
  }

  private async refuseIfServed(versionIds: string[], what: string): Promise<void> {
    const n = versionIds.length ? await this.models.countServicesUsing(versionIds) : 0;
    if (n > 0)
      throw new ModelException(
        ErrorCode.Conflict,
        `${what} is used by ${n} inference service(s): delete them or move them to another version first`,
      );
  }

  private async abortOpenUploads(versionId: string): Promise<void> {
    for (const s of await this.uploads.listActiveForVersion(versionId)) {
      await this.storage
        .abortMultipart(s.objectKey, s.s3UploadId)
        .catch((err: Error) => this.logger.warn(err.message));
      await this.uploads.close(s.id, 'ACTIVE', 'ABORTED');
    }
  }

  private map(m: ModelRow): ModelView {
    return {
      id: m.id,
      projectId: m.projectId,
      name: m.name,
      description: m.description,
      createdAt: m.createdAt.toISOString(),
      versions: m.versions.map((v) => ({
        id: v.id,
        version: v.version,
        state: v.state,
        createdAt: v.createdAt.toISOString(),
      })),
    };
  }

  mapVersion(v: VersionRow): VersionView {
    const files = v.files.map((f) => ({ path: f.path, size: Number(f.size), sha256: f.sha256 }));
    return {
      id: v.id,
      modelId: v.modelId,
      model: v.model.name,
      projectId: v.projectId,
      version: v.version,
      state: v.state,
      failureReason: v.failureReason,
      metadata: v.metadata ?? null,
      files,
      totalBytes: files.reduce((n, f) => n + f.size, 0),
      createdAt: v.createdAt.toISOString(),
      verifiedAt: v.verifiedAt?.toISOString() ?? null,
      storagePrefix: versionPrefix(v.projectId, v.model.name, v.version),
    };
  }
}
