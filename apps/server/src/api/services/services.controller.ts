import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DNS_1035_RE } from '@troupe/common';
import { autoscalingPolicyInputSchema } from '@troupe/autoscaler';
import { ENGINE_KINDS } from '@troupe/lws';
import { AutoscalingService, Principal, ServiceService } from '@troupe/core';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { CurrentPrincipal, Roles } from '../../http/auth.decorators';
import { ApiZodBody, ApiZodQuery, PageParams, PageQuery, ZodPipe } from '../../http/zod';

const intOrPercent = z.union([z.number().int().min(0), z.string().regex(/^(100|[1-9]?[0-9])%$/)]);
const Engine = z.strictObject({
  kind: z
    .enum(ENGINE_KINDS)
    .optional()
    .describe(
      'Which engine serves the model (default vllm): vllm (a Ray cluster per group, the leader runs vllm serve) or ' +
        'sglang (every pod runs sglang.launch_server, ranks from LWS_WORKER_INDEX). Fixed once the service exists.',
    ),
  image: z
    .string()
    .min(1)
    .describe('The engine image, e.g. vllm/vllm-openai:v0.11.0 or lmsysorg/sglang:v0.5.3'),
  extraArgs: z
    .array(z.string())
    .optional()
    .describe(
      'Extra engine arguments; the flags the platform sets (parallelism, port, model…) are refused by name',
    ),
  env: z.record(z.string(), z.string()).optional(),
  maxModelLen: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Context length: vLLM --max-model-len, SGLang --context-length'),
  dtype: z.string().optional(),
  gpuMemoryUtilization: z
    .number()
    .gt(0)
    .max(1)
    .optional()
    .describe('vLLM --gpu-memory-utilization, SGLang --mem-fraction-static'),
  maxNumSeqs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Sequences at once: vLLM --max-num-seqs, SGLang --max-running-requests'),
});
const Replicas = z.strictObject({
  initial: z.number().int().min(0).optional(),
  min: z.number().int().min(0).optional(),
  max: z.number().int().min(1).optional(),
});
const Rollout = z.strictObject({
  maxUnavailable: intOrPercent.optional(),
  maxSurge: intOrPercent.optional(),
});
/** `init-container` (default): each pod syncs the weights locally first; `streamer`: the engine streams them from S3. */
const Weights = z.strictObject({ mode: z.enum(['init-container', 'streamer']).optional() });
const CreateServiceBody = z.strictObject({
  name: z
    .string()
    .max(47, { message: 'must be at most 47 characters (pod names derive from it)' })
    .regex(DNS_1035_RE, {
      message: 'must be a DNS-1035 label: lowercase letters, digits and "-", starting with a letter',
    }),
  projectId: z.uuid().optional(),
  model: z.string().min(1),
  version: z.string().min(1),
  servedModelName: z.string().min(1).max(200).optional(),
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .max(63)
    .optional(),
  parallelism: z
    .strictObject({
      tensor: z.number().int().positive(),
      pipeline: z.number().int().positive(),
      allowTensorAcrossNodes: z.boolean().optional(),
    })
    .optional(),
  gpusPerNode: z.number().int().positive().max(64).optional(),
  gpu: z
    .strictObject({
      resource: z.string().optional(),
      type: z.string().optional(),
      nodeSelector: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  replicas: Replicas.optional(),
  engine: Engine,
  placement: z
    .strictObject({
      exclusiveTopology: z.string().optional(),
      startupPolicy: z.enum(['LeaderCreated', 'LeaderReady']).optional(),
      restartPolicy: z.enum(['RecreateGroupOnPodRestart', 'None']).optional(),
    })
    .optional(),
  rollout: Rollout.optional(),
  weights: Weights.optional(),
  /** Autoscaling policy (validated by the policy's own schema: 422 naming `autoscaling.<field>`). */
  autoscaling: z.record(z.string(), z.unknown()).optional(),
});
const PatchServiceBody = z.strictObject({
  version: z.string().min(1).optional(),
  engine: Engine.partial().optional(),
  replicas: Replicas.optional(),
  rollout: Rollout.optional(),
  weights: Weights.optional(),
});
// The policy's fields are checked by the autoscaler library (422 naming the field); here only its shape.
const AutoscalingBody = z.record(z.string(), z.unknown(), { error: 'the policy must be a JSON object' });
const ScaleBody = z.strictObject({
  replicas: z
    .number({ error: 'replicas must be a number' })
    .int({ error: 'replicas must be a whole number' }),
});
const CreateQuery = z.object({ dryRun: z.enum(['true', 'false']).optional() });
type CreateParams = z.output<typeof CreateQuery>;
const ProjectQuery = z.object({
  projectId: z.uuid().optional(),
  format: z.enum(['json', 'yaml']).optional(),
});
type ProjectParams = z.output<typeof ProjectQuery>;

@ApiTags('services')
@ApiBearerAuth()
@Controller('api/v1/services')
@Roles('admin', 'member')
export class ServicesController {
  constructor(
    private readonly services: ServiceService,
    private readonly autoscaling: AutoscalingService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create an inference service (202); ?dryRun=true validates and renders only' })
  @ApiZodBody(CreateServiceBody)
  async create(
    @CurrentPrincipal() p: Principal,
    @Body(new ZodPipe(CreateServiceBody)) body: z.output<typeof CreateServiceBody>,
    @Query(new ZodPipe(CreateQuery)) q: CreateParams,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const dryRun = q.dryRun === 'true';
    const { autoscaling, ...spec } = body;
    const input = spec as Parameters<ServiceService['create']>[1];
    const result =
      autoscaling === undefined
        ? await this.services.create(p, input, dryRun)
        : await this.autoscaling.createWithPolicy(p, input, autoscaling, dryRun);
    reply.status(dryRun ? 200 : 202);
    return dryRun ? { dryRun: true, spec: result.spec, manifest: result.manifest } : result.service;
  }

  @Get()
  @ApiOperation({ summary: 'List services with desired and observed state' })
  @ApiZodQuery(PageQuery)
  async list(@CurrentPrincipal() p: Principal, @Query(new ZodPipe(PageQuery)) page: PageParams) {
    return { data: await this.services.list(p, page) };
  }

  @Get(':name')
  @ApiOperation({
    summary:
      'A service: spec, phase, groups desired/ready/updated, leader endpoints, last error, and scaling (owner of the groups, pin, policy, last autoscaler decision)',
  })
  get(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
  ) {
    return this.autoscaling.get(p, name, q.projectId);
  }

  @Put(':name/autoscaling')
  @ApiOperation({
    summary:
      'Set the autoscaling policy (fields merged over the stored policy or the defaults); resumes autoscaling after a manual scale; {"enabled":false} hands the groups back to the spec',
  })
  @ApiZodBody(autoscalingPolicyInputSchema)
  setAutoscaling(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
    @Body(new ZodPipe(AutoscalingBody)) body: z.output<typeof AutoscalingBody>,
  ) {
    return this.autoscaling.setPolicy(p, name, body, q.projectId);
  }

  @Post(':name/scale')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Scale by hand: pins the service at {replicas} groups and pauses autoscaling (202; applied by the reconciler)',
  })
  @ApiZodBody(ScaleBody)
  scale(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
    @Body(new ZodPipe(ScaleBody)) body: z.output<typeof ScaleBody>,
  ) {
    return this.autoscaling.scale(p, name, body.replicas, q.projectId);
  }

  @Patch(':name')
  @HttpCode(202)
  @ApiOperation({ summary: 'Change model version, engine, replica bounds or rollout (rolls group by group)' })
  @ApiZodBody(PatchServiceBody)
  patch(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
    @Body(new ZodPipe(PatchServiceBody)) body: z.output<typeof PatchServiceBody>,
  ) {
    return this.services.patch(p, name, body as Parameters<ServiceService['patch']>[2], q.projectId);
  }

  @Delete(':name')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Delete the service: its LeaderWorkerSet and pods are removed, status becomes DELETED',
  })
  delete(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
  ) {
    return this.services.delete(p, name, q.projectId);
  }

  @Get(':name/manifest')
  @ApiOperation({ summary: 'The rendered LeaderWorkerSet (?format=yaml for YAML)' })
  async manifest(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const m = await this.services.manifest(p, name, q.projectId);
    if (q.format === 'yaml') {
      reply.header('content-type', 'application/yaml');
      return m.yaml;
    }
    return m.json;
  }

  @Get(':name/events')
  @ApiOperation({
    summary:
      'Deploy and scaling history: what Troupe and the autoscaler did (with reasons and inputs) and what the cluster reported',
  })
  async events(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
  ) {
    return { data: await this.services.events(p, name, q.projectId) };
  }
}
