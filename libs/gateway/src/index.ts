// Limits and usage accounting
export * from './limits/limits.types';
export type { LimitReason } from './limits/limit-math';
export * from './limits/gateway-limiter';
export * from './limits/limits.module';
export * from './usage/usage.types';
export * from './usage/usage-recorder';
export * from './usage/usage.service';
export * from './usage/usage.module';
