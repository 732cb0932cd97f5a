import { Module } from '@nestjs/common';
import { UsageRepository } from './usage.repository';
import { UsageService } from './usage.service';

/** Usage reports for the management API (`GET /api/v1/usage`). */
@Module({ providers: [UsageRepository, UsageService], exports: [UsageService] })
export class UsageModule {}
