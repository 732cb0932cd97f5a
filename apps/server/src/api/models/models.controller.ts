import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiConsumes, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DNS_LABEL_MAX, DNS_LABEL_RE } from '@troupe/common';
import { ModelService, Principal, UploadService } from '@troupe/core';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CurrentPrincipal, Roles } from '../../http/auth.decorators';
import { rawBody } from '../../http/raw-body';
import { ApiZodBody, ApiZodQuery, PageParams, PageQuery, ZodPipe } from '../../http/zod';

const ModelName = z
  .string()
  .max(DNS_LABEL_MAX, { message: `must be at most ${DNS_LABEL_MAX} characters` })
  .regex(DNS_LABEL_RE, {
    message: 'must be lowercase letters, digits and "-", starting and ending with a letter or digit',
  });
const VersionName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
  message: 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit',
});

const CreateModelBody = z.strictObject({
  name: ModelName,
  description: z.string().max(1000).optional(),
  projectId: z.uuid().optional(),
});
const CreateVersionBody = z.strictObject({ version: VersionName });
const CreateUploadBody = z.strictObject({
  path: z.string(),
  size: z.number().int().min(0),
  sha256: z.string().optional(),
});
const ProjectQuery = z.object({ projectId: z.uuid().optional() });
type ProjectParams = z.output<typeof ProjectQuery>;
const ListQuery = PageQuery.extend({ projectId: z.uuid().optional() });
type ListParams = z.output<typeof ListQuery>;

@ApiTags('models')
@ApiBearerAuth()
@Controller('api/v1/models')
@Roles('admin', 'member')
export class ModelsController {
  constructor(
    private readonly models: ModelService,
    private readonly uploads: UploadService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a model (admins name the project with projectId)' })
  @ApiZodBody(CreateModelBody)
  create(
    @CurrentPrincipal() p: Principal,
    @Body(new ZodPipe(CreateModelBody)) body: z.output<typeof CreateModelBody>,
  ) {
    return this.models.create(p, body);
  }

  @Get()
  @ApiOperation({ summary: 'List models' })
  @ApiZodQuery(ListQuery)
  async list(@CurrentPrincipal() p: Principal, @Query(new ZodPipe(ListQuery)) q: ListParams) {
    const page: PageParams = { limit: q.limit, offset: q.offset };
    return { data: await this.models.list(p, page, q.projectId) };
  }

  @Get(':model')
  @ApiOperation({ summary: 'A model and its versions' })
  get(
    @CurrentPrincipal() p: Principal,
    @Param('model') model: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
  ) {
    return this.models.get(this.models.ref(p, model, q.projectId));
  }

  @Delete(':model')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a model, its versions and their stored weights' })
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('model') model: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
  ) {
    await this.models.delete(this.models.ref(p, model, q.projectId));
  }

  @Post(':model/versions')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a version (state UPLOADING)' })
  @ApiZodBody(CreateVersionBody)
  createVersion(
    @CurrentPrincipal() p: Principal,
    @Param('model') model: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
    @Body(new ZodPipe(CreateVersionBody)) body: z.output<typeof CreateVersionBody>,
  ) {
    return this.models.createVersion(this.models.ref(p, model, q.projectId), body.version);
  }

  @Get(':model/versions')
  @ApiOperation({ summary: 'Versions of a model' })
  async listVersions(
    @CurrentPrincipal() p: Principal,
    @Param('model') model: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
  ) {
    return { data: (await this.models.get(this.models.ref(p, model, q.projectId))).versions };
  }

  @Get(':model/versions/:version')
  @ApiOperation({ summary: 'A version: state, files (path, size, sha256) and verified metadata' })
  getVersion(
    @CurrentPrincipal() p: Principal,
    @Param('model') model: string,
    @Param('version') version: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
  ) {
    return this.models.getVersion(this.models.ref(p, model, q.projectId), version);
  }

  @Delete(':model/versions/:version')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a version and its stored weights' })
  async deleteVersion(
    @CurrentPrincipal() p: Principal,
    @Param('model') model: string,
    @Param('version') version: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
  ) {
    await this.models.deleteVersion(this.models.ref(p, model, q.projectId), version);
  }

  @Put(':model/versions/:version/files/*')
  @HttpCode(201)
  @ApiOperation({ summary: 'Upload one file as a raw body, streamed to object storage' })
  @ApiConsumes('application/octet-stream')
  @ApiHeader({ name: 'x-content-sha256', required: false, description: 'sha256 (hex) of the body; verified' })
  putFile(
    @CurrentPrincipal() p: Principal,
    @Param('model') model: string,
    @Param('version') version: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
    @Req() req: FastifyRequest,
  ) {
    const { body, contentLength, sha256 } = rawBody(req);
    const path = (req.params as Record<string, string>)['*'] ?? '';
    return this.uploads.putFile(this.models.ref(p, model, q.projectId), version, path, body, {
      contentLength,
      sha256,
    });
  }

  @Post(':model/versions/:version/uploads')
  @HttpCode(201)
  @ApiOperation({ summary: 'Start a resumable upload of one large file' })
  @ApiZodBody(CreateUploadBody)
  createUpload(
    @CurrentPrincipal() p: Principal,
    @Param('model') model: string,
    @Param('version') version: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
    @Body(new ZodPipe(CreateUploadBody)) body: z.output<typeof CreateUploadBody>,
  ) {
    return this.uploads.createSession(this.models.ref(p, model, q.projectId), version, body);
  }

  @Post(':model/versions/:version/finalize')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Verify the version (config.json, safetensors headers, shards) in the background',
  })
  finalize(
    @CurrentPrincipal() p: Principal,
    @Param('model') model: string,
    @Param('version') version: string,
    @Query(new ZodPipe(ProjectQuery)) q: ProjectParams,
  ) {
    return this.models.finalize(this.models.ref(p, model, q.projectId), version);
  }
}
