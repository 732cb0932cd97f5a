export * from './types';
export { startEngine, errorBody, SIMULATED_VLLM_VERSION } from './engine';
export { parseVllmCommand } from './vllm-command';
