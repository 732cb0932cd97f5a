export * from './types';
export { startEngine, errorBody, SIMULATED_VLLM_VERSION } from './engine';
export { parseVllmCommand } from './vllm-command';
export { parseSglangCommand, SGLANG_DEFAULT_PORT, SGLANG_LAUNCH_MODULE } from './sglang-command';
export { parseEngineCommand } from './engine-command';
