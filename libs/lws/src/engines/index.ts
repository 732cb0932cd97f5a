import type { EngineDescriptor, EngineKind } from './engine';
import { SGLANG } from './sglang';
import { VLLM } from './vllm';

export * from './engine';
export * from './model-source';
export * from './vllm';
export * from './sglang';

/** Every engine the platform renders, by kind. */
export const ENGINES: Readonly<Record<EngineKind, EngineDescriptor>> = Object.freeze({
  vllm: VLLM,
  sglang: SGLANG,
});

/** The descriptor of a service's engine; absent (specs stored before the choice) is vLLM. */
export function engineDescriptor(kind: EngineKind | undefined): EngineDescriptor {
  return ENGINES[kind ?? 'vllm'];
}
