import { Module } from '@nestjs/common';
import { GatewayProxyModule } from '@troupe/gateway';
import { GatewayRoutes } from './gateway-routes';
import { ModelsController } from './models.controller';

/**
 * The `gateway` role: the OpenAI-compatible API under /v1. /v1/models goes through Nest like the rest
 * of the API; the three proxy routes are mounted on Fastify by GatewayRoutes (see there why).
 */
@Module({ imports: [GatewayProxyModule], controllers: [ModelsController], providers: [GatewayRoutes] })
export class GatewayModule {}
