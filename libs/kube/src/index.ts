export * from './types';
export * from './kube-errors';
export * from './pods';
export * from './resource-cache';
export * from './kube-client';
export * from './watch-cache';
export * from './disabled';
export * from './kube.module';
