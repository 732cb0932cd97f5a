import { Controller, Get, Headers, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppException, ErrorCode } from '@troupe/common';
import { Principal } from '@troupe/core';
import { PROJECT_HEADER, ServiceEntry, ServiceTable, visibleServices } from '@troupe/gateway';
import { CurrentPrincipal, Roles } from '../http/auth.decorators';

interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

function toModel(s: ServiceEntry): OpenAiModel {
  return {
    id: s.servedModelName,
    object: 'model',
    created: Math.floor(s.createdAt.getTime() / 1000),
    owned_by: s.projectName,
  };
}

/**
 * The models (inference services) a key may call, from the gateway's in-memory service table: a
 * key's own project, every project for admin keys (narrowed by `x-troupe-project`).
 */
@ApiTags('openai')
@ApiBearerAuth()
@Controller('v1')
@Roles('admin', 'member', 'inference')
export class ModelsController {
  constructor(private readonly table: ServiceTable) {}

  @Get('models')
  @ApiOperation({ summary: 'Models (inference services) the key may call, in the OpenAI list shape' })
  list(@CurrentPrincipal() principal: Principal, @Headers(PROJECT_HEADER) project?: string) {
    const data = visibleServices(this.table.services, principal, project, this.table.index.projects).map(
      toModel,
    );
    return { object: 'list', data };
  }

  @Get('models/:model')
  @ApiOperation({ summary: 'One model the key may call' })
  get(
    @CurrentPrincipal() principal: Principal,
    @Param('model') model: string,
    @Headers(PROJECT_HEADER) project?: string,
  ): OpenAiModel {
    const found = visibleServices(this.table.services, principal, project, this.table.index.projects).find(
      (s) => s.servedModelName === model,
    );
    if (!found) {
      throw new AppException(
        ErrorCode.NotFound,
        `The model \`${model}\` does not exist or you do not have access to it.`,
      );
    }
    return toModel(found);
  }
}
