import { Module } from '@nestjs/common';
import { ApiKeyModule, AutoscalingModule, ModelModule, ProjectModule, ServiceModule } from '@troupe/core';
import { UsageModule } from '@troupe/gateway';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { ModelsController } from './models/models.controller';
import { UploadsController } from './models/uploads.controller';
import { ServicesController } from './services/services.controller';
import { ProjectsController } from './projects/projects.controller';
import { UsageController } from './usage/usage.controller';

/** The `api` role: management REST under /api/v1. */
@Module({
  imports: [ProjectModule, ApiKeyModule, ModelModule, ServiceModule, AutoscalingModule, UsageModule],
  controllers: [
    ProjectsController,
    ApiKeysController,
    ModelsController,
    UploadsController,
    ServicesController,
    UsageController,
  ],
})
export class ApiModule {}
