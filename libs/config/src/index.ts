export * from './env.schema';
export * from './config';
export * from './config.module';
