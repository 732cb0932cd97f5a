import { Module } from '@nestjs/common';
import { ModelRepository } from './model.repository';
import { ModelService } from './model.service';
import { UploadRepository } from './upload.repository';
import { UploadService } from './upload.service';

@Module({
  providers: [ModelRepository, UploadRepository, ModelService, UploadService],
  exports: [ModelService, UploadService, ModelRepository],
})
export class ModelModule {}
