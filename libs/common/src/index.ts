export * from './errors/error-codes';
export * from './errors/app.exception';
export * from './ids';
export * from './names';
export * from './observability/request-context';
export * from './observability/logger';
export * from './observability/metrics';
export * from './timeout';
