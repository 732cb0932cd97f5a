// Rendered LeaderWorkerSets validate against the upstream CRD's openAPIV3Schema (LWS v0.7.0), read
// from `shared/reference/lws-v0.7.0-crd.yaml` beside the repository. Skipped when the file is absent.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  crdVersionSchema,
  formatSchemaErrors,
  validateAgainstSchema,
  type JSONSchemaProps,
} from './crd-schema';
import { renderLeaderWorkerSet, type RenderInput } from './render';
import { renderInput } from './test-helpers';
import type { LeaderWorkerSet } from './types';

const CRD_FILE = path.join('shared', 'reference', 'lws-v0.7.0-crd.yaml');

/** Walks up from this file: the CRD lives in the repository's parent directory (`<parent>/shared/…`). */
function findCrd(): string | undefined {
  if (process.env.LWS_CRD_PATH) return process.env.LWS_CRD_PATH;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, CRD_FILE);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const crdPath = findCrd();

if (!crdPath) {
  describe('LeaderWorkerSet CRD schema', () => {
    it.skip(`SKIPPED: ${CRD_FILE} not found above ${__dirname} (set LWS_CRD_PATH to run the CRD validation)`, () => {});
  });
} else {
  const crd: unknown = parse(readFileSync(crdPath, 'utf8'));
  const schema = crdVersionSchema(crd, 'v1') as JSONSchemaProps;
  const errorsOf = (obj: unknown): string => formatSchemaErrors(validateAgainstSchema(obj, schema));
  const clone = (lws: LeaderWorkerSet): LeaderWorkerSet & Record<string, unknown> =>
    JSON.parse(JSON.stringify(lws)) as LeaderWorkerSet & Record<string, unknown>;

  describe(`rendered LeaderWorkerSets validate against ${path.basename(crdPath)}`, () => {
    it('has a v1 openAPIV3Schema', () => {
      expect(schema?.type).toBe('object');
      expect(schema.properties?.spec?.required).toEqual(['leaderWorkerTemplate']);
    });

    const cases: [string, RenderInput][] = [
      [
        'small: one GPU, one pod',
        renderInput({
          service: { name: 'tiny', parallelism: { tensor: 1, pipeline: 1 }, gpusPerNode: 1, replicas: 1 },
        }),
      ],
      ['TP 8 × PP 2 on 8-GPU nodes (size 2)', renderInput()],
      ['part of a node (TP 4 on 8)', renderInput({ service: { parallelism: { tensor: 4, pipeline: 1 } } })],
      [
        'exclusive topology, unique subdomains, percentages, partition, single-pod LeaderReady',
        renderInput({
          service: {
            parallelism: { tensor: 8, pipeline: 1 },
            placement: {
              exclusiveTopology: 'topology.kubernetes.io/rack',
              startupPolicy: 'LeaderReady',
              restartPolicy: 'None',
              subdomainPolicy: 'UniquePerReplica',
            },
            rollout: { maxUnavailable: '25%', maxSurge: '10%', partition: 1 },
          },
        }),
      ],
      [
        'extra args, env, limits, node selector, tolerations, labels',
        renderInput({
          service: {
            engine: {
              image: 'vllm/vllm-openai:v0.10.1',
              extraArgs: ['--enforce-eager', '--chat-template', "{{ x }}'; $(rm -rf /)", '--seed=-1'],
              env: { NCCL_DEBUG: 'INFO', VLLM_LOGGING_LEVEL: 'DEBUG' },
              maxModelLen: 131072,
              dtype: 'bfloat16',
              gpuMemoryUtilization: 0.95,
              maxNumSeqs: 256,
            },
            nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
            tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
            gpuResource: 'nvidia.com/gpu',
          },
          model: { weightBytes: 810_000_000_000 },
          labels: { team: 'nlp' },
        }),
      ],
      [
        'streamer mode',
        renderInput({
          weights: {
            mode: 'streamer',
            credentialsSecret: 'troupe-storage',
            bucket: 'troupe-models',
            endpoint: 'https://s3.example.com',
          },
        }),
      ],
      [
        'custom sync image and command',
        renderInput({
          weights: {
            mode: 'init-container',
            syncImage: 'minio/mc:latest',
            syncCommand: ['mc', 'mirror', 's3/$(S3_BUCKET)/$(S3_PREFIX)', '$(MODEL_DIR)'],
            credentialsSecret: 'c',
            bucket: 'bucket-1',
            endpoint: 'http://minio:9000',
          },
        }),
      ],
    ];
    const sglang = (over: Partial<RenderInput['service']> = {}, weights?: RenderInput['weights']) =>
      renderInput({
        service: { engine: { kind: 'sglang', image: 'lmsysorg/sglang:v0.5.3' }, ...over },
        ...(weights ? { weights } : {}),
      });
    cases.push(
      ['SGLang: TP 8 × PP 2 on 8-GPU nodes (size 2)', sglang()],
      ['SGLang: one GPU, one pod', sglang({ parallelism: { tensor: 1, pipeline: 1 }, gpusPerNode: 1 })],
      [
        'SGLang: tensor across nodes, limits, extra args, env, exclusive topology',
        sglang({
          parallelism: { tensor: 16, pipeline: 1, allowTensorAcrossNodes: true },
          engine: {
            kind: 'sglang',
            image: 'lmsysorg/sglang:v0.5.3',
            extraArgs: ['--enable-torch-compile', '--chunked-prefill-size', '4096'],
            env: { NCCL_DEBUG: 'INFO' },
            maxModelLen: 131072,
            maxNumSeqs: 128,
            gpuMemoryUtilization: 0.88,
            dtype: 'bfloat16',
          },
          placement: { exclusiveTopology: 'topology.kubernetes.io/rack' },
        }),
      ],
      [
        'SGLang: streamer mode',
        sglang(
          {},
          {
            mode: 'streamer',
            credentialsSecret: 'troupe-storage',
            bucket: 'troupe-models',
            endpoint: 'https://s3.example.com',
          },
        ),
      ],
    );
    it.each(cases)('%s', (_name, input) => {
      expect(errorsOf(renderLeaderWorkerSet(input))).toBe('');
    });
  });

  describe('the validator catches what the API server would refuse', () => {
    const base = (): LeaderWorkerSet & Record<string, unknown> => clone(renderLeaderWorkerSet(renderInput()));

    it('size 0 is not refused by the CRD schema (no minimum: the LWS webhook refuses it), so sizing does', () => {
      const lws = base();
      lws.spec.leaderWorkerTemplate.size = 0;
      expect(errorsOf(lws)).toBe('');
    });

    const LWT = ['spec', 'leaderWorkerTemplate'];
    const WORKER = [...LWT, 'workerTemplate', 'spec', 'containers', 0];
    const LEADER = [...LWT, 'leaderTemplate', 'spec', 'containers', 0];
    const DELETE = Symbol('delete');
    // [what, path, new value (or DELETE), expected error]
    const negatives: [string, (string | number)[], unknown, RegExp][] = [
      ['size beyond int32', [...LWT, 'size'], 2 ** 31, /leaderWorkerTemplate\.size: .*32-bit/],
      ['size as a string', [...LWT, 'size'], '2', /leaderWorkerTemplate\.size: .*must be of type integer/],
      ['replicas as a string', ['spec', 'replicas'], '2', /spec\.replicas: .*must be of type integer/],
      ['replicas 1.5', ['spec', 'replicas'], 1.5, /spec\.replicas: .*must be of type integer, not number/],
      [
        'unknown restartPolicy',
        [...LWT, 'restartPolicy'],
        'Always',
        /restartPolicy: Unsupported value: "Always"/,
      ],
      ['unknown startupPolicy', ['spec', 'startupPolicy'], 'Whenever', /startupPolicy: Unsupported value/],
      [
        'rollout type',
        ['spec', 'rolloutStrategy', 'type'],
        'Recreate',
        /rolloutStrategy\.type: Unsupported value/,
      ],
      [
        'missing workerTemplate',
        [...LWT, 'workerTemplate'],
        DELETE,
        /leaderWorkerTemplate\.workerTemplate: Required value/,
      ],
      ['missing leaderWorkerTemplate', LWT, DELETE, /spec\.leaderWorkerTemplate: Required value/],
      [
        'missing containers',
        [...LWT, 'workerTemplate', 'spec', 'containers'],
        DELETE,
        /workerTemplate\.spec\.containers: Required value/,
      ],
      ['container without a name', [...WORKER, 'name'], DELETE, /containers\[0\]\.name: Required value/],
      [
        'containerPort as a string',
        [...LEADER, 'ports', 0, 'containerPort'],
        '8000',
        /ports\[0\]\.containerPort: .*must be of type integer/,
      ],
      ['an unknown field', [...LWT, 'sizee'], 2, /leaderWorkerTemplate\.sizee: unknown field "sizee"/],
      [
        'a bad quantity',
        [...WORKER, 'resources', 'limits', 'nvidia.com/gpu'],
        '8 GPUs',
        /limits\["nvidia\.com\/gpu"\]: Invalid value: "8 GPUs": should match/,
      ],
      [
        'a quantity of the wrong type',
        [...WORKER, 'resources', 'limits', 'nvidia.com/gpu'],
        true,
        /must be an integer or a string/,
      ],
      [
        'duplicate env names',
        [...WORKER, 'env'],
        [
          { name: 'A', value: 'x' },
          { name: 'A', value: 'y' },
        ],
        /env\[1\]: Duplicate value: map\["name"="A"\]/,
      ],
      [
        'duplicate ports (protocol defaulted)',
        [...LEADER, 'ports', 1],
        { containerPort: 8000 },
        /ports\[1\]: Duplicate value/,
      ],
      [
        'null for a non-nullable field',
        ['spec', 'startupPolicy'],
        null,
        /startupPolicy: Invalid value: null/,
      ],
      [
        'maxSurge as a boolean',
        ['spec', 'rolloutStrategy', 'rollingUpdateConfiguration', 'maxSurge'],
        false,
        /maxSurge: Invalid value: false: must be an integer or a string/,
      ],
      [
        'label value not a string',
        [...LWT, 'workerTemplate', 'metadata', 'labels', 'x'],
        1,
        /labels\.x: .*must be of type string/,
      ],
      [
        'networkConfig without subdomainPolicy',
        ['spec', 'networkConfig'],
        {},
        /networkConfig\.subdomainPolicy: Required value/,
      ],
    ];
    const mutate = (obj: Record<string, unknown>, at: (string | number)[], value: unknown): void => {
      let node = obj as Record<string | number, unknown>;
      for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
      const last = at[at.length - 1];
      if (value === DELETE) delete node[last];
      else node[last] = value;
    };
    it.each(negatives)('%s', (_name, at, value, expected) => {
      const lws = base();
      mutate(lws, at, value);
      expect(errorsOf(lws)).toMatch(expected);
    });
  });
}
