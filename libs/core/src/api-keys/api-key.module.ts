import { Module } from '@nestjs/common';
import { ProjectModule } from '../projects/project.module';
import { ApiKeyService } from './api-key.service';

@Module({ imports: [ProjectModule], providers: [ApiKeyService], exports: [ApiKeyService] })
export class ApiKeyModule {}
