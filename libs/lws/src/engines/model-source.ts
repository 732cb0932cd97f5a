// Where an engine finds the weights: the local directory the init container fills, or the S3 URL
// the engine streams from. Shared by every engine's command line.

import type { ModelRef, RenderInput, WeightsSource } from '../render';

export const MODELS_DIR = '/models';

/** `/models/<name>/<version>`: where the init container puts the version's files. */
export function modelDir(m: ModelRef): string {
  return `${MODELS_DIR}/${m.name}/${m.version}`;
}

/** `s3://<bucket>/<prefix>`: the version's files in object storage. */
export function s3Url(w: WeightsSource, m: ModelRef): string {
  return `s3://${w.bucket}/${m.storagePrefix}`;
}

/** The model argument of the engine: the S3 URL when it streams, else the local directory. */
export function modelPath(input: RenderInput): string {
  return input.weights.mode === 'streamer' ? s3Url(input.weights, input.model) : modelDir(input.model);
}
