import { Module } from '@nestjs/common';
import { ModelModule } from '../models/model.module';
import { ReconcileService } from './reconcile.service';
import { ServiceRepository } from './service.repository';
import { ServiceService } from './service.service';
import { ServiceWatcher } from './service-watcher';

@Module({
  imports: [ModelModule],
  providers: [ServiceRepository, ServiceService, ReconcileService],
  exports: [ServiceService, ReconcileService, ServiceRepository],
})
export class ServiceModule {}

/** Worker role only: the watcher that writes observed state back. */
@Module({ imports: [ServiceModule], providers: [ServiceWatcher] })
export class ServiceWatcherModule {}
