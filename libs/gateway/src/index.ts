// Limits and usage accounting
export * from './limits/limits.types';
export type { LimitReason } from './limits/limit-math';
export * from './limits/gateway-limiter';
export * from './limits/limits.module';
export * from './usage/usage.types';
export * from './usage/usage-recorder';
export * from './usage/usage.service';
export * from './usage/usage.module';
// Hot path (OpenAI proxy)
export * from './proxy/gateway-error';
export * from './proxy/request-body';
export * from './proxy/gateway-proxy';
export * from './picker/picker';
export * from './routing/service-entry';
export * from './routing/service-table';
export * from './routing/routing-table';
export * from './hold/gateway-signals';
export * from './hold/load-tracker';
export * from './gateway-proxy.module';
