import { Module } from '@nestjs/common';
import { ApiKeyModule, ProjectModule } from '@troupe/core';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { ProjectsController } from './projects/projects.controller';

/** The `api` role: management REST under /api/v1. */
@Module({
  imports: [ProjectModule, ApiKeyModule],
  controllers: [ProjectsController, ApiKeysController],
})
export class ApiModule {}
