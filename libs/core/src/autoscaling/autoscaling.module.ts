import { Module } from '@nestjs/common';
import { ServiceModule } from '../services/service.module';
import { AutoscalerMetrics } from './autoscaler.metrics';
import { AutoscalerService } from './autoscaler.service';
import { AutoscalingRepository } from './autoscaling.repository';
import { AutoscalingService } from './autoscaling.service';

/** Policy, admin pin and the view of who owns a service's groups (api role). */
@Module({
  imports: [ServiceModule],
  providers: [AutoscalingRepository, AutoscalingService],
  exports: [AutoscalingService, AutoscalingRepository],
})
export class AutoscalingModule {}

/** The autoscaler's per-service tick (worker role; the loop holding the lease lives in the app). */
@Module({
  imports: [ServiceModule],
  providers: [AutoscalingRepository, AutoscalerService, AutoscalerMetrics],
  exports: [AutoscalerService, AutoscalingRepository, AutoscalerMetrics],
})
export class AutoscalerModule {}
