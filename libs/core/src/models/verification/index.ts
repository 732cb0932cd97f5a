export * from './verification-error';
export * from './safetensors';
export * from './model-config';
export * from './checkpoint';
export * from './test-checkpoint';
