import { Global, Module, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@troupe/config';
import { DisabledObjectStorage } from './disabled-object-storage';
import { MinioObjectStorage } from './minio-storage';
import { ObjectStorage } from './object-storage';

export function createObjectStorage(config: AppConfig): ObjectStorage {
  return config.s3 ? new MinioObjectStorage(config.s3) : new DisabledObjectStorage();
}

/**
 * Provides `ObjectStorage` from config: the MinIO/S3 driver when S3 is configured (the bucket is created at
 * startup; an unreachable store fails the boot, like the database), else `DisabledObjectStorage`.
 */
@Global()
@Module({
  providers: [{ provide: ObjectStorage, inject: [APP_CONFIG], useFactory: createObjectStorage }],
  exports: [ObjectStorage],
})
export class StorageModule implements OnModuleInit {
  constructor(private readonly storage: ObjectStorage) {}

  async onModuleInit(): Promise<void> {
    if (this.storage.configured) await this.storage.ensureBucket();
  }
}
