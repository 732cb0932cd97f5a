import { Module } from '@nestjs/common';
import { ModelMetrics } from './model.metrics';
import { ModelRepository } from './model.repository';
import { ModelService } from './model.service';
import { UploadRepository } from './upload.repository';
import { UploadService } from './upload.service';
import { VerificationService } from './verification.service';

@Module({
  providers: [
    ModelMetrics,
    ModelRepository,
    UploadRepository,
    ModelService,
    UploadService,
    VerificationService,
  ],
  exports: [ModelService, UploadService, VerificationService, ModelRepository],
})
export class ModelModule {}
