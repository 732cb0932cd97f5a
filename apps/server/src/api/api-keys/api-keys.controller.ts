import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyService, ApiKeyView, CreatedApiKey, Principal } from '@troupe/core';
import { z } from 'zod';
import { CurrentPrincipal, Roles } from '../../http/auth.decorators';
import { ApiZodBody, ApiZodQuery, PageParams, PageQuery, ZodPipe } from '../../http/zod';

const CreateApiKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: z.enum(['admin', 'member', 'inference']),
  projectId: z.uuid({ message: 'must be a project id (uuid)' }).optional(),
  expiresAt: z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
    .transform((s) => new Date(s))
    .optional(),
});

@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('api/v1/api-keys')
@Roles('admin', 'member')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a key; the response is the only time the key is shown' })
  @ApiZodBody(CreateApiKeyBody)
  create(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodPipe(CreateApiKeyBody)) body: z.output<typeof CreateApiKeyBody>,
  ): Promise<CreatedApiKey> {
    return this.keys.create(principal, body);
  }

  @Get()
  @ApiOperation({ summary: 'List keys (never the secrets): all for admins, their project for members' })
  @ApiZodQuery(PageQuery)
  async list(@CurrentPrincipal() principal: Principal, @Query(new ZodPipe(PageQuery)) page: PageParams) {
    return { data: await this.keys.list(principal, page) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get one key (never the secret)' })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ApiKeyView> {
    return this.keys.get(principal, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key, at once and everywhere' })
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.keys.revoke(principal, id);
  }
}
