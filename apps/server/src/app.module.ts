import { DynamicModule, Global, Module, ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MetricsRegistry } from '@troupe/common';
import { AppConfig, ConfigModule } from '@troupe/config';
import { AuthModule } from '@troupe/core';
import { DbModule } from '@troupe/db';
import { QueueModule } from '@troupe/queue';
import { StorageModule } from '@troupe/storage';
import { KubeModule } from '@troupe/kube';
import { ApiModule } from './api/api.module';
import { GatewayModule } from './gateway/gateway.module';
import { HealthModule } from './health/health.module';
import { AuthGuard } from './http/auth.guard';
import { WorkerModule } from './worker/worker.module';

@Global()
@Module({ providers: [MetricsRegistry], exports: [MetricsRegistry] })
class ObservabilityModule {}

/** Composes the process from its roles (ROLES=api,gateway,worker); shared infrastructure is always on. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const roleModules: NonNullable<ModuleMetadata['imports']> = [];
    if (config.roles.has('api')) roleModules.push(ApiModule);
    if (config.roles.has('gateway')) roleModules.push(GatewayModule);
    if (config.roles.has('worker')) roleModules.push(WorkerModule);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule,
        DbModule,
        QueueModule,
        StorageModule,
        KubeModule,
        AuthModule,
        HealthModule,
        ...roleModules,
      ],
      providers: [{ provide: APP_GUARD, useClass: AuthGuard }],
    };
  }
}
