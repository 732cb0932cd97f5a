// Helpers shared by this library's specs (not exported from the index).

import type { RenderInput } from './render';

/** Kubernetes' expansion of command/args: `$$` -> `$`, `$(VAR)` -> value when VAR is defined. */
export function kubeExpand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && Object.prototype.hasOwnProperty.call(env, name) ? env[name] : m,
  );
}

export const NASTY = [
  '',
  ' ',
  'plain',
  "it's",
  "''",
  '"double"',
  'a b\tc',
  'line1\nline2',
  '$HOME',
  '${HOME}',
  '$(id)',
  '$(SECRET)',
  '$$(SECRET)',
  '`id`',
  '; rm -rf / #',
  '&& echo pwned',
  '| cat /etc/passwd',
  '> /tmp/x',
  '*',
  '~',
  '\\',
  '\\n',
  '{"a": [1, 2]}',
  '{{ messages }}',
  'ünïcödé ✓',
  "-'-",
  '--flag=$(x)',
];

type DeepPartialInput = {
  service?: Partial<RenderInput['service']>;
  model?: Partial<RenderInput['model']>;
  weights?: RenderInput['weights'];
  labels?: Record<string, string>;
};

/** A valid render input (TP 8 × PP 2 on 8-GPU nodes: size 2), with overrides. */
export function renderInput(over: DeepPartialInput = {}): RenderInput {
  return {
    service: {
      name: 'llama-405b',
      namespace: 'team-a',
      projectId: '6f1c2b1e-4d7a-4b0e-9a51-0c3d2f1e9b77',
      projectName: 'Research',
      servedModelName: 'llama-405b',
      replicas: 2,
      parallelism: { tensor: 8, pipeline: 2 },
      gpusPerNode: 8,
      engine: { image: 'vllm/vllm-openai:v0.10.1', extraArgs: [], env: {} },
      placement: {},
      rollout: { maxUnavailable: 1, maxSurge: 0 },
      ...over.service,
    },
    model: {
      storagePrefix: 'proj/llama/v1/',
      versionId: '0b7d8f0e-1c2d-4e5f-8a9b-123456789abc',
      name: 'llama',
      version: 'v1',
      ...over.model,
    },
    weights: over.weights ?? {
      mode: 'init-container',
      credentialsSecret: 'troupe-storage',
      bucket: 'troupe-models',
      endpoint: 'http://minio.storage:9000',
    },
    ...(over.labels ? { labels: over.labels } : {}),
  };
}

/** Every object in a tree (depth first), for "nowhere in the output" assertions. */
export function* objectsIn(value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) for (const v of value) yield* objectsIn(v);
  else if (value && typeof value === 'object') {
    yield value as Record<string, unknown>;
    for (const v of Object.values(value)) yield* objectsIn(v);
  }
}
