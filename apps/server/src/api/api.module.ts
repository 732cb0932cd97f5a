import { Module } from '@nestjs/common';
import { ApiKeyModule, ModelModule, ProjectModule, ServiceModule } from '@troupe/core';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { ModelsController } from './models/models.controller';
import { UploadsController } from './models/uploads.controller';
import { ServicesController } from './services/services.controller';
import { ProjectsController } from './projects/projects.controller';

/** The `api` role: management REST under /api/v1. */
@Module({
  imports: [ProjectModule, ApiKeyModule, ModelModule, ServiceModule],
  controllers: [
    ProjectsController,
    ApiKeysController,
    ModelsController,
    UploadsController,
    ServicesController,
  ],
})
export class ApiModule {}
