import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DNS_LABEL_RE, DNS_LABEL_MAX } from '@troupe/common';
import { Principal, ProjectService, ProjectView } from '@troupe/core';
import { z } from 'zod';
import { CurrentPrincipal, Roles } from '../../http/auth.decorators';
import { ApiZodBody, ApiZodQuery, PageParams, PageQuery, ZodPipe } from '../../http/zod';

const CreateProjectBody = z.strictObject({
  name: z
    .string()
    .max(DNS_LABEL_MAX, { message: `must be at most ${DNS_LABEL_MAX} characters` })
    .regex(DNS_LABEL_RE, {
      message: 'must be lowercase letters, digits and "-", starting and ending with a letter or digit',
    }),
  displayName: z.string().trim().min(1).max(200).optional(),
});

const limitField = (max: number) =>
  z
    .number({ message: 'must be a whole number >= 0, or null for the platform default' })
    .int({ message: 'must be a whole number' })
    .min(0, { message: 'must be >= 0 (0 = unlimited)' })
    .max(max, { message: `must be <= ${max}` })
    .nullable()
    .optional();
const PatchProjectBody = z.strictObject({
  limits: z
    .strictObject({
      requestsPerMinute: limitField(1_000_000_000),
      tokensPerMinute: limitField(1_000_000_000),
      concurrentStreams: limitField(1_000_000),
    })
    .nullable()
    .describe(
      'Gateway limits per API key of the project. A given field replaces the stored one; null resets it ' +
        '(or, for the whole object, all of them) to the platform default; 0 means unlimited.',
    ),
});

@ApiTags('projects')
@ApiBearerAuth()
@Controller('api/v1/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectService) {}

  @Post()
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({ summary: 'Create a project (admin)' })
  @ApiZodBody(CreateProjectBody)
  create(
    @Body(new ZodPipe(CreateProjectBody)) body: z.output<typeof CreateProjectBody>,
  ): Promise<ProjectView> {
    return this.projects.create(body);
  }

  @Get()
  @Roles('admin', 'member')
  @ApiOperation({ summary: 'List projects: all for admins, their own for members' })
  @ApiZodQuery(PageQuery)
  async list(@CurrentPrincipal() principal: Principal, @Query(new ZodPipe(PageQuery)) page: PageParams) {
    return { data: await this.projects.list(principal, page) };
  }

  @Get(':id')
  @Roles('admin', 'member')
  @ApiOperation({ summary: 'Get one project' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ProjectView> {
    return this.projects.get(principal, id);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Change a project (admin): its gateway limits per API key' })
  @ApiZodBody(PatchProjectBody)
  patch(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(new ZodPipe(PatchProjectBody)) body: z.output<typeof PatchProjectBody>,
  ): Promise<ProjectView> {
    return this.projects.setLimits(principal, id, body.limits);
  }
}
