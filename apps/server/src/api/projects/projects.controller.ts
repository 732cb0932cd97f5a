import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
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
}
