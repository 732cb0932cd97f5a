import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal } from '@troupe/core';
import { CurrentPrincipal, Roles } from '../http/auth.decorators';

/**
 * OpenAI-compatible surface. Inference services arrive with the deploy feature; until a project has
 * one, its model list is empty, which is what OpenAI clients expect of an account with no models.
 */
@ApiTags('openai')
@ApiBearerAuth()
@Controller('v1')
@Roles('admin', 'member', 'inference')
export class ModelsController {
  @Get('models')
  @ApiOperation({ summary: 'Models (inference services) the key may call, in the OpenAI list shape' })
  list(@CurrentPrincipal() _principal: Principal) {
    return { object: 'list', data: [] as unknown[] };
  }
}
