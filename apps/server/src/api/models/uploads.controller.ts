import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiConsumes, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, UploadService } from '@troupe/core';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, Roles } from '../../http/auth.decorators';
import { rawBody } from '../../http/raw-body';

@ApiTags('models')
@ApiBearerAuth()
@Controller('api/v1/uploads')
@Roles('admin', 'member')
export class UploadsController {
  constructor(private readonly uploads: UploadService) {}

  @Get(':id')
  @ApiOperation({ summary: 'An upload session and the parts received (resume from here)' })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.uploads.getSession(p, id);
  }

  @Put(':id/parts/:n')
  @HttpCode(200)
  @ApiOperation({ summary: 'Upload part n (1-based) as a raw body; parallel, any order, retryable' })
  @ApiConsumes('application/octet-stream')
  @ApiHeader({
    name: 'x-content-sha256',
    required: false,
    description: 'sha256 (hex) of this part; verified',
  })
  putPart(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('n') n: string,
    @Req() req: FastifyRequest,
  ) {
    const { body, contentLength, sha256 } = rawBody(req);
    return this.uploads.uploadPart(p, id, /^\d+$/.test(n) ? Number(n) : NaN, body, { contentLength, sha256 });
  }

  @Post(':id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Assemble the parts; returns path, size and the sha256 of the whole file' })
  complete(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.uploads.complete(p, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Abort the upload' })
  async abort(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    await this.uploads.abort(p, id);
  }
}
