import { Injectable } from '@nestjs/common';
import { AppException, ErrorCode, FieldIssue } from '@troupe/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { mapPrismaError } from '@troupe/db';
import {
  DEFAULT_GPU_RESOURCE,
  DEFAULT_GPU_TYPES,
  engineDescriptor,
  gpuFacts,
  LeaderWorkerSet,
  proposeLayout,
  renderLeaderWorkerSet,
  RenderInput,
  sizeGroup,
  toYaml,
  validateExtraArgs,
  validateRenderInput,
} from '@troupe/lws';
import { QueueName, QueueProducer, RedisService } from '@troupe/queue';
import { Principal, projectFor, scopeOf } from '../auth/principal';
import { ModelRepository } from '../models/model.repository';
import { ServiceCore, ServiceRepository, ServiceRow } from './service.repository';
import {
  engineKindOf,
  ObservedState,
  SERVICES_CHANGED_CHANNEL,
  ServiceEventView,
  ServicePhase,
  ServiceSpec,
  ServiceView,
  WeightsMode,
} from './service.types';

/** What a client may send to create a service (validated for shape by the controller). */
export interface CreateServiceInput {
  name: string;
  projectId?: string;
  model: string;
  version: string;
  servedModelName?: string;
  namespace?: string;
  parallelism?: { tensor: number; pipeline: number; allowTensorAcrossNodes?: boolean };
  gpusPerNode?: number;
  gpu?: { resource?: string; type?: string; nodeSelector?: Record<string, string> };
  replicas?: { initial?: number; min?: number; max?: number };
  engine:
    | ServiceSpec['engine']
    | (Omit<ServiceSpec['engine'], 'extraArgs' | 'env'> & {
        extraArgs?: string[];
        env?: Record<string, string>;
      });
  placement?: Partial<ServiceSpec['placement']>;
  rollout?: Partial<ServiceSpec['rollout']>;
  weights?: { mode?: WeightsMode };
}

export type PatchServiceInput = Partial<
  Pick<CreateServiceInput, 'version' | 'engine' | 'replicas' | 'rollout' | 'weights'>
>;

export const S3_CREDENTIALS_SECRET = 'troupe-s3-credentials';
export const RECONCILER = 'troupe-reconciler';
const DEFAULT_GPUS_PER_NODE = 8;

const unprocessable = (issues: FieldIssue[]) =>
  new AppException(
    ErrorCode.Unprocessable,
    `Invalid service: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    { issues },
  );

@Injectable()
export class ServiceService {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly services: ServiceRepository,
    private readonly models: ModelRepository,
    private readonly queues: QueueProducer,
    private readonly redis: RedisService,
  ) {}

  /** Validates and renders; `dryRun` stores nothing. Otherwise 202: stored, and a reconcile job queued. */
  async create(
    principal: Principal,
    input: CreateServiceInput,
    dryRun: boolean,
  ): Promise<{ service?: ServiceView; spec: ServiceSpec; manifest: LeaderWorkerSet }> {
    const projectId = projectFor(principal, input.projectId);
    if (!projectId)
      throw AppException.validation([{ field: 'projectId', message: 'admin keys must name the project' }]);
    const version = await this.models.findVersion(projectId, input.model, input.version);
    if (!version)
      throw unprocessable([
        { field: 'version', message: `model "${input.model}" has no version "${input.version}"` },
      ]);
    if (version.state !== 'READY') {
      throw unprocessable([
        {
          field: 'version',
          message: `version "${input.version}" is ${version.state}; only READY versions can be served`,
        },
      ]);
    }
    const spec = this.buildSpec(input, version.metadata as Record<string, unknown> | null);
    const namespace = input.namespace ?? this.config.kube?.namespace ?? 'default';
    const servedModelName = input.servedModelName ?? input.name;
    const manifest = this.render({ name: input.name, namespace, projectId, servedModelName, spec, version });
    if (dryRun) return { spec, manifest };

    const [existing, clash] = await Promise.all([
      this.services.findCoreByName(projectId, input.name),
      this.services.findCoreLiveInNamespace(namespace, input.name),
    ]);
    if (existing?.phase === 'DELETED') await this.services.remove(existing.id);
    if (clash && clash.projectId !== projectId) {
      // The LWS name is the service name: one per namespace, whoever owns it.
      throw new AppException(
        ErrorCode.Conflict,
        `The name "${input.name}" is taken in namespace "${namespace}"; choose another name`,
      );
    }
    let row: ServiceCore;
    try {
      row = await this.services.create({
        projectId,
        name: input.name,
        servedModelName,
        namespace,
        modelVersionId: version.id,
        spec: spec as unknown as object,
      });
    } catch (err) {
      mapPrismaError(err, {
        uniqueViolation: () =>
          new AppException(
            ErrorCode.Conflict,
            `A service named "${input.name}" or serving "${servedModelName}" already exists in this project`,
          ),
      });
    }
    await this.services.addEvent(
      row.id,
      'Normal',
      'Created',
      `service created: ${engineDescriptor(engineKindOf(spec)).name}, ${spec.replicas.initial} group(s) of ${manifest.spec.leaderWorkerTemplate.size} pod(s), TP ${spec.parallelism.tensor} x PP ${spec.parallelism.pipeline}${spec.layoutExplanation ? ` (${spec.layoutExplanation})` : ''}`,
    );
    await this.enqueueReconcile(row.id);
    await this.announceChange(row.id, row.projectId);
    return { service: this.map({ ...row, modelVersion: version }), spec, manifest };
  }

  async list(principal: Principal, page: { limit: number; offset: number }): Promise<ServiceView[]> {
    return (await this.services.list(scopeOf(principal), page)).map((r) => this.map(r));
  }

  async get(principal: Principal, name: string, projectId?: string): Promise<ServiceView> {
    return this.map(await this.require(principal, name, projectId));
  }

  async manifest(
    principal: Principal,
    name: string,
    projectId?: string,
  ): Promise<{ json: LeaderWorkerSet; yaml: string }> {
    const row = await this.require(principal, name, projectId);
    const json = this.renderRow(row);
    return { json, yaml: toYaml(json) };
  }

  async events(principal: Principal, name: string, projectId?: string): Promise<ServiceEventView[]> {
    const row = await this.require(principal, name, projectId);
    return (await this.services.events(row.id, 500)).map((e) => ({
      type: e.type as 'Normal' | 'Warning',
      reason: e.reason,
      message: e.message,
      data: e.data ?? null,
      createdAt: e.createdAt.toISOString(),
    }));
  }

  /** New model version, engine settings, replica bounds or rollout: a template change rolls group by group. */
  async patch(
    principal: Principal,
    name: string,
    input: PatchServiceInput,
    projectId?: string,
  ): Promise<ServiceView> {
    const row = await this.require(principal, name, projectId);
    if (row.deletedAt) throw new AppException(ErrorCode.Conflict, `Service "${name}" is being deleted`);
    const current = row.spec as unknown as ServiceSpec;
    const engine = engineKindOf(current);
    if (input.engine?.kind !== undefined && input.engine.kind !== engine) {
      // Groups of both engines would serve side by side during the rollout, the autoscaler and the
      // picker reading one engine's metrics: a new engine is a new service.
      throw unprocessable([
        {
          field: 'engine.kind',
          message: `the service runs ${engine} and its engine cannot be changed; create a service with engine.kind ${input.engine.kind} instead`,
        },
      ]);
    }
    let version = row.modelVersion;
    if (input.version && input.version !== version.version) {
      const next = await this.models.findVersion(row.projectId, version.model.name, input.version);
      if (!next)
        throw unprocessable([
          { field: 'version', message: `model "${version.model.name}" has no version "${input.version}"` },
        ]);
      if (next.state !== 'READY')
        throw unprocessable([
          {
            field: 'version',
            message: `version "${input.version}" is ${next.state}; only READY versions can be served`,
          },
        ]);
      version = next as typeof version;
    }
    const spec: ServiceSpec = {
      ...current,
      engine: input.engine
        ? {
            ...current.engine,
            ...input.engine,
            extraArgs: input.engine.extraArgs ?? current.engine.extraArgs,
            env: input.engine.env ?? current.engine.env,
          }
        : current.engine,
      replicas: { ...current.replicas, ...(input.replicas ?? {}) },
      rollout: { ...current.rollout, ...(input.rollout ?? {}) },
      weights: { mode: input.weights?.mode ?? current.weights?.mode ?? 'init-container' },
    };
    const issues = [
      ...validateExtraArgs(spec.engine.extraArgs, { field: 'engine.extraArgs', engine }),
      ...replicaIssues(spec.replicas),
    ];
    if (issues.length) throw unprocessable(issues);
    this.render({
      name: row.name,
      namespace: row.namespace,
      projectId: row.projectId,
      servedModelName: row.servedModelName,
      spec,
      version,
    });
    const updated = await this.services.update(row.id, {
      spec: spec as unknown as object,
      modelVersion: { connect: { id: version.id } },
      generation: { increment: 1 },
    });
    await this.services.addEvent(
      row.id,
      'Normal',
      'Updated',
      `spec changed (generation ${updated.generation})${input.version ? `: model version ${input.version}` : ''}`,
    );
    await this.enqueueReconcile(row.id);
    await this.announceChange(row.id, row.projectId);
    return this.map(updated);
  }

  /** 202: the reconciler deletes the LWS and what Troupe made for it, then marks the service DELETED. */
  async delete(principal: Principal, name: string, projectId?: string): Promise<ServiceView> {
    const row = await this.require(principal, name, projectId);
    if (row.phase === 'DELETED') return this.map(row);
    const updated = await this.services.update(row.id, {
      deletedAt: row.deletedAt ?? new Date(),
      phase: 'DELETING',
      phaseReason: 'deletion requested',
    });
    await this.services.addEvent(row.id, 'Normal', 'Deleting', 'deletion requested');
    await this.enqueueReconcile(row.id);
    await this.announceChange(row.id, row.projectId);
    return this.map(updated);
  }

  /**
   * Tells gateway processes that a service changed so they refresh their table at once. Best effort:
   * they also reload on a timer, so a Redis hiccup only delays the change.
   */
  async announceChange(serviceId: string, projectId: string): Promise<void> {
    await this.redis
      .publish(SERVICES_CHANGED_CHANNEL, JSON.stringify({ serviceId, projectId }))
      .catch(() => undefined);
  }

  async enqueueReconcile(serviceId: string): Promise<void> {
    await this.queues.enqueue(
      QueueName.Deploy,
      'reconcile',
      { serviceId },
      { jobId: serviceId, removeOnComplete: true, removeOnFail: true, attempts: 10 },
    );
  }

  renderRow(row: ServiceCore & { modelVersion: ServiceRow['modelVersion'] }): LeaderWorkerSet {
    return this.render({
      name: row.name,
      namespace: row.namespace,
      projectId: row.projectId,
      servedModelName: row.servedModelName,
      spec: row.spec as unknown as ServiceSpec,
      version: row.modelVersion,
    });
  }

  private render(args: {
    name: string;
    namespace: string;
    projectId: string;
    servedModelName: string;
    spec: ServiceSpec;
    version: ServiceRow['modelVersion'];
  }): LeaderWorkerSet {
    const { spec, version } = args;
    const meta = (version.metadata ?? {}) as Record<string, unknown>;
    const s3 = this.config.s3;
    const input: RenderInput = {
      service: {
        name: args.name,
        namespace: args.namespace,
        projectId: args.projectId,
        servedModelName: args.servedModelName,
        replicas: spec.replicas.initial,
        parallelism: spec.parallelism,
        gpusPerNode: spec.gpusPerNode,
        gpuResource: spec.gpu.resource,
        nodeSelector: spec.gpu.nodeSelector,
        engine: spec.engine,
        placement: spec.placement,
        rollout: spec.rollout,
      },
      model: {
        storagePrefix: `${version.projectId}/${version.model.name}/${version.version}/`,
        versionId: version.id,
        name: version.model.name,
        version: version.version,
        weightBytes: version.files.reduce((n, f) => n + Number(f.size), 0),
        numAttentionHeads: typeof meta.numAttentionHeads === 'number' ? meta.numAttentionHeads : undefined,
        numLayers: typeof meta.numLayers === 'number' ? meta.numLayers : undefined,
      },
      weights: {
        mode: spec.weights?.mode ?? 'init-container',
        bucket: s3?.bucket ?? 'troupe-models',
        endpoint: s3?.endpoint ?? 'http://minio:9000',
        credentialsSecret: S3_CREDENTIALS_SECRET,
        region: s3?.region,
      },
    };
    const issues = validateRenderInput(input);
    if (issues.length) throw unprocessable(issues);
    return renderLeaderWorkerSet(input);
  }

  private buildSpec(input: CreateServiceInput, metadata: Record<string, unknown> | null): ServiceSpec {
    const issues: FieldIssue[] = [];
    const gpusPerNode = input.gpusPerNode ?? DEFAULT_GPUS_PER_NODE;
    const heads = typeof metadata?.numAttentionHeads === 'number' ? metadata.numAttentionHeads : undefined;
    const layers = typeof metadata?.numLayers === 'number' ? metadata.numLayers : undefined;
    let parallelism = input.parallelism;
    let layoutExplanation: string | undefined;
    if (parallelism) {
      const sized = sizeGroup({ ...parallelism, gpusPerNode, numAttentionHeads: heads, numLayers: layers });
      if (Array.isArray(sized))
        issues.push(
          ...sized.map((i) => ({
            ...i,
            field:
              i.field.startsWith('parallelism') || i.field === 'gpusPerNode'
                ? i.field
                : `parallelism.${i.field}`,
          })),
        );
    } else {
      const type = input.gpu?.type ?? 'H100-80GB';
      const gpu = gpuFacts(type, gpusPerNode);
      if (!DEFAULT_GPU_TYPES[type] || Array.isArray(gpu)) {
        issues.push({
          field: 'gpu.type',
          message: `unknown GPU type "${type}"; known: ${Object.keys(DEFAULT_GPU_TYPES).join(', ')}`,
        });
      } else {
        const proposal = proposeLayout(
          {
            weightBytes: typeof metadata?.weightBytes === 'number' ? metadata.weightBytes : undefined,
            dtype: String(metadata?.dtype ?? 'bfloat16'),
            parameterCount:
              typeof metadata?.parameterCount === 'number' ? metadata.parameterCount : undefined,
            numAttentionHeads: heads,
            numLayers: layers,
          },
          gpu,
        );
        if (Array.isArray(proposal)) issues.push(...proposal.map((i) => ({ ...i, field: 'parallelism' })));
        else {
          parallelism = { tensor: proposal.tensor, pipeline: proposal.pipeline };
          layoutExplanation = proposal.explanation;
        }
      }
    }
    const extraArgs = input.engine.extraArgs ?? [];
    const engine = engineKindOf(input);
    issues.push(...validateExtraArgs(extraArgs, { field: 'engine.extraArgs', engine }));
    const replicas = {
      initial: input.replicas?.initial ?? input.replicas?.min ?? 1,
      min: input.replicas?.min ?? 1,
      max: input.replicas?.max ?? Math.max(input.replicas?.initial ?? 1, input.replicas?.min ?? 1),
    };
    issues.push(...replicaIssues(replicas));
    if (issues.length > 0 || !parallelism) throw unprocessable(issues);
    return {
      parallelism,
      gpusPerNode,
      gpu: {
        resource: input.gpu?.resource ?? DEFAULT_GPU_RESOURCE,
        ...(input.gpu?.type ? { type: input.gpu.type } : {}),
        ...(input.gpu?.nodeSelector ? { nodeSelector: input.gpu.nodeSelector } : {}),
      },
      replicas,
      engine: { kind: engine, ...input.engine, extraArgs, env: input.engine.env ?? {} },
      placement: {
        ...(input.placement?.exclusiveTopology
          ? { exclusiveTopology: input.placement.exclusiveTopology }
          : {}),
        startupPolicy: input.placement?.startupPolicy ?? 'LeaderCreated',
        restartPolicy: input.placement?.restartPolicy ?? 'RecreateGroupOnPodRestart',
      },
      rollout: { maxUnavailable: input.rollout?.maxUnavailable ?? 1, maxSurge: input.rollout?.maxSurge ?? 0 },
      weights: { mode: input.weights?.mode ?? 'init-container' },
      ...(layoutExplanation ? { layoutExplanation } : {}),
    };
  }

  private async require(principal: Principal, name: string, projectId?: string): Promise<ServiceRow> {
    const project = projectFor(principal, projectId);
    if (!project)
      throw AppException.validation([
        { field: 'projectId', message: 'admin keys must name the project (?projectId=)' },
      ]);
    const row = await this.services.findByName(project, name);
    if (!row) throw AppException.notFound(`Service "${name}"`);
    return row;
  }

  map(r: ServiceCore & { modelVersion: { version: string; model: { name: string } } }): ServiceView {
    return {
      id: r.id,
      projectId: r.projectId,
      name: r.name,
      servedModelName: r.servedModelName,
      namespace: r.namespace,
      model: {
        name: r.modelVersion.model.name,
        version: r.modelVersion.version,
        versionId: r.modelVersionId,
      },
      spec: r.spec as unknown as ServiceSpec,
      generation: r.generation,
      status: {
        phase: r.phase as ServicePhase,
        reason: r.phaseReason,
        lastError: r.lastError,
        appliedGeneration: r.appliedGeneration,
        observed: (r.observed as unknown as ObservedState) ?? null,
      },
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
      deletedAt: r.deletedAt?.toISOString() ?? null,
    };
  }
}

function replicaIssues(r: { initial: number; min: number; max: number }): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (r.min < 0) issues.push({ field: 'replicas.min', message: 'must be >= 0' });
  if (r.max < 1) issues.push({ field: 'replicas.max', message: 'must be >= 1' });
  if (r.min > r.max) issues.push({ field: 'replicas.min', message: `must be <= replicas.max (${r.max})` });
  if (r.initial < r.min || r.initial > r.max)
    issues.push({
      field: 'replicas.initial',
      message: `must be between replicas.min (${r.min}) and replicas.max (${r.max})`,
    });
  return issues;
}
