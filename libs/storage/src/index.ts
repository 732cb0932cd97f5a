export * from './object-storage';
export * from './storage-errors';
export * from './minio-storage';
export * from './disabled-object-storage';
export * from './storage.module';
