import { Module } from '@nestjs/common';
import { ModelsController } from './models.controller';

/** The `gateway` role: the OpenAI-compatible API under /v1. */
@Module({ controllers: [ModelsController] })
export class GatewayModule {}
