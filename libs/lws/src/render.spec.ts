import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AppException, ErrorCode } from '@troupe/common';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SYNC_IMAGE,
  leaderScript,
  renderLeaderWorkerSet,
  specHash,
  toYaml,
  validateRenderInput,
  vllmServeArgs,
  workerScript,
  type InitContainerWeights,
  type ModelRef,
  type RenderInput,
  type ServiceRenderSpec,
} from './render';
import { sglangNodeSplit } from './engines';
import { NASTY, kubeExpand, objectsIn, renderInput } from './test-helpers';
import type { Container, EnvVar, LeaderWorkerSet, PodTemplateSpec } from './types';

const leaderOf = (lws: LeaderWorkerSet): PodTemplateSpec => {
  const t = lws.spec.leaderWorkerTemplate.leaderTemplate;
  if (!t) throw new Error('no leader template');
  return t;
};
const workerOf = (lws: LeaderWorkerSet): PodTemplateSpec => lws.spec.leaderWorkerTemplate.workerTemplate;
const main = (t: PodTemplateSpec): Container => t.spec.containers[0];
const script = (c: Container): string => (c.command ?? [])[2] ?? '';
const envOf = (c: Container): Record<string, EnvVar> =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));

function issuesOf(input: RenderInput): Record<string, string> {
  return Object.fromEntries(validateRenderInput(input).map((i) => [i.field, i.message]));
}

describe('renderLeaderWorkerSet: object, names and labels', () => {
  const lws = renderLeaderWorkerSet(renderInput());

  it('is a leaderworkerset.x-k8s.io/v1 LeaderWorkerSet named like the service', () => {
    expect(lws.apiVersion).toBe('leaderworkerset.x-k8s.io/v1');
    expect(lws.kind).toBe('LeaderWorkerSet');
    expect(lws.metadata.name).toBe('llama-405b');
    expect(lws.metadata.namespace).toBe('team-a');
    expect(lws.status).toBeUndefined();
  });

  it('labels the LWS and both templates with service, project and model version', () => {
    const troupe = {
      'troupe.io/service': 'llama-405b',
      'troupe.io/project': '6f1c2b1e-4d7a-4b0e-9a51-0c3d2f1e9b77',
      'troupe.io/model-version': '0b7d8f0e-1c2d-4e5f-8a9b-123456789abc',
    };
    expect(lws.metadata.labels).toEqual(troupe);
    expect(leaderOf(lws).metadata?.labels).toEqual({ ...troupe, role: 'leader' });
    expect(workerOf(lws).metadata?.labels).toEqual({ ...troupe, role: 'worker' });
  });

  it('adds extra labels, sorted, but never over the platform ones', () => {
    const l = renderLeaderWorkerSet(renderInput({ labels: { team: 'nlp', 'cost-center': 'c42' } }));
    expect(Object.keys(l.metadata.labels ?? {})).toEqual([
      'troupe.io/service',
      'troupe.io/project',
      'troupe.io/model-version',
      'cost-center',
      'team',
    ]);
    expect(leaderOf(l).metadata?.labels?.team).toBe('nlp');
    for (const key of [
      'troupe.io/service',
      'role',
      'leaderworkerset.sigs.k8s.io/name',
      'x.kubernetes.io/y',
    ]) {
      expect(issuesOf(renderInput({ labels: { [key]: 'x' } }))).toHaveProperty([`labels.${key}`]);
    }
    expect(issuesOf(renderInput({ labels: { team: 'not valid!' } }))).toHaveProperty(['labels.team']);
  });

  it('annotates model, project name, served model name and a spec hash', () => {
    expect(lws.metadata.annotations).toEqual({
      'troupe.io/model': 'llama/v1',
      'troupe.io/project-name': 'Research',
      'troupe.io/served-model-name': 'llama-405b',
      'troupe.io/spec-hash': specHash(lws.spec),
    });
    expect(lws.metadata.annotations?.['troupe.io/spec-hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('puts the exclusive-topology annotation only when asked', () => {
    expect(lws.metadata.annotations).not.toHaveProperty(['leaderworkerset.sigs.k8s.io/exclusive-topology']);
    const l = renderLeaderWorkerSet(renderInput({ service: { placement: { exclusiveTopology: 'rack' } } }));
    expect(l.metadata.annotations?.['leaderworkerset.sigs.k8s.io/exclusive-topology']).toBe('rack');
    expect(
      issuesOf(renderInput({ service: { placement: { exclusiveTopology: 'not a key!' } } })),
    ).toHaveProperty(['placement.exclusiveTopology']);
  });
});

describe('renderLeaderWorkerSet: group shape and policies', () => {
  it.each([
    ['TP8 PP2 on 8-GPU nodes', { tensor: 8, pipeline: 2 }, 8, 2, '8'],
    ['TP8 PP1 on 8', { tensor: 8, pipeline: 1 }, 8, 1, '8'],
    ['TP4 PP4 on 8', { tensor: 4, pipeline: 4 }, 8, 2, '8'],
    ['TP4 PP1 on 8: part of a node', { tensor: 4, pipeline: 1 }, 8, 1, '4'],
    ['TP1 PP1 on 1', { tensor: 1, pipeline: 1 }, 1, 1, '1'],
    ['TP16 across nodes when asked', { tensor: 16, pipeline: 1, allowTensorAcrossNodes: true }, 8, 2, '8'],
  ])('%s: size %#, GPUs per pod', (_name, parallelism, gpusPerNode, size, gpus) => {
    const lws = renderLeaderWorkerSet(renderInput({ service: { parallelism, gpusPerNode } }));
    expect(lws.spec.leaderWorkerTemplate.size).toBe(size);
    for (const t of [leaderOf(lws), workerOf(lws)]) {
      expect(main(t).resources).toEqual({
        limits: { 'nvidia.com/gpu': gpus },
        requests: { 'nvidia.com/gpu': gpus },
      });
    }
  });

  it('uses the configured GPU resource name', () => {
    const lws = renderLeaderWorkerSet(renderInput({ service: { gpuResource: 'amd.com/gpu' } }));
    expect(main(leaderOf(lws)).resources?.limits).toEqual({ 'amd.com/gpu': '8' });
    expect(issuesOf(renderInput({ service: { gpuResource: 'gpu' } }))).toHaveProperty(['gpuResource']);
  });

  it('refuses a tensor degree spanning nodes unless asked, with the sizing issue', () => {
    const input = renderInput({ service: { parallelism: { tensor: 16, pipeline: 1 } } });
    expect(issuesOf(input)['parallelism.tensor']).toMatch(/tensor 8 and pipeline 2/);
    expect(() => renderLeaderWorkerSet(input)).toThrow(AppException);
  });

  it('checks tensor against the heads and pipeline against the layers when the model says', () => {
    const input = renderInput({
      model: { numAttentionHeads: 40, numLayers: 1 },
      service: { parallelism: { tensor: 16, pipeline: 2, allowTensorAcrossNodes: true } },
    });
    expect(Object.keys(issuesOf(input)).sort()).toEqual(['parallelism.pipeline', 'parallelism.tensor']);
  });

  it('defaults: replicas as given, LeaderCreated, RecreateGroupOnPodRestart, RollingUpdate 1/0', () => {
    const lws = renderLeaderWorkerSet(
      renderInput({ service: { placement: undefined, rollout: undefined, replicas: 3 } }),
    );
    expect(lws.spec.replicas).toBe(3);
    expect(lws.spec.startupPolicy).toBe('LeaderCreated');
    expect(lws.spec.leaderWorkerTemplate.restartPolicy).toBe('RecreateGroupOnPodRestart');
    expect(lws.spec.rolloutStrategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdateConfiguration: { maxUnavailable: 1, maxSurge: 0 },
    });
    expect(lws.spec.networkConfig).toBeUndefined();
    expect(lws.spec.leaderWorkerTemplate.subGroupPolicy).toBeUndefined();
  });

  it('takes placement and rollout as given', () => {
    const lws = renderLeaderWorkerSet(
      renderInput({
        service: {
          replicas: 0,
          placement: { restartPolicy: 'None', subdomainPolicy: 'UniquePerReplica' },
          rollout: { maxUnavailable: '25%', maxSurge: 1, partition: 2 },
        },
      }),
    );
    expect(lws.spec.replicas).toBe(0);
    expect(lws.spec.leaderWorkerTemplate.restartPolicy).toBe('None');
    expect(lws.spec.networkConfig).toEqual({ subdomainPolicy: 'UniquePerReplica' });
    expect(lws.spec.rolloutStrategy.rollingUpdateConfiguration).toEqual({
      maxUnavailable: '25%',
      maxSurge: 1,
      partition: 2,
    });
  });

  it('accepts LeaderReady for single-pod groups and refuses it for multi-pod ones (it would never start)', () => {
    const single = renderInput({
      service: { parallelism: { tensor: 8, pipeline: 1 }, placement: { startupPolicy: 'LeaderReady' } },
    });
    expect(renderLeaderWorkerSet(single).spec.startupPolicy).toBe('LeaderReady');
    const multi = renderInput({ service: { placement: { startupPolicy: 'LeaderReady' } } });
    expect(issuesOf(multi)['placement.startupPolicy']).toMatch(/never start.*LeaderCreated/);
    const explicit = renderInput({ service: { placement: { startupPolicy: 'LeaderCreated' } } });
    expect(renderLeaderWorkerSet(explicit).spec.startupPolicy).toBe('LeaderCreated');
  });

  it('throws a 422 AppException with every issue', () => {
    const input = renderInput({
      service: { name: 'Bad_Name', replicas: -1, rollout: { maxUnavailable: 0, maxSurge: 0 } },
    });
    let caught: unknown;
    try {
      renderLeaderWorkerSet(input);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AppException);
    const ex = caught as AppException;
    expect(ex.code).toBe(ErrorCode.Unprocessable);
    expect(ex.status).toBe(422);
    expect(ex.issues?.map((i) => i.field).sort()).toEqual(['name', 'replicas', 'rollout']);
    expect(ex.message).toMatch(/^Cannot deploy: /);
  });
});

describe('renderLeaderWorkerSet: leader', () => {
  const input = renderInput({
    service: {
      engine: {
        image: 'vllm/vllm-openai:v0.10.1',
        maxModelLen: 32768,
        dtype: 'bfloat16',
        gpuMemoryUtilization: 0.92,
        maxNumSeqs: 128,
        extraArgs: ['--enable-prefix-caching'],
        env: { VLLM_LOGGING_LEVEL: 'DEBUG' },
      },
    },
  });
  const lws = renderLeaderWorkerSet(input);
  const leader = main(leaderOf(lws));

  it('runs vllm-leader from the engine image under sh -c', () => {
    expect(leader.name).toBe('vllm-leader');
    expect(leader.image).toBe('vllm/vllm-openai:v0.10.1');
    expect(leader.command?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(leader.command).toHaveLength(3);
    expect(leader.args).toBeUndefined();
  });

  it('starts the Ray head, waits for LWS_GROUP_SIZE nodes, then execs vllm serve with the platform flags', () => {
    const s = script(leader);
    const lines = s.split('\n');
    expect(lines[0]).toBe('set -e');
    expect(lines[1]).toMatch(/^ray start --head --port=6379 /);
    expect(s).toContain('LWS_GROUP_SIZE');
    const serve = lines[lines.length - 1];
    expect(serve).toBe(
      'exec vllm serve /models/llama/v1 --served-model-name llama-405b --tensor-parallel-size 8 ' +
        '--pipeline-parallel-size 2 --distributed-executor-backend ray --port 8000 --max-model-len 32768 ' +
        '--dtype bfloat16 --gpu-memory-utilization 0.92 --max-num-seqs 128 --enable-prefix-caching',
    );
    expect(s.indexOf('ray start --head')).toBeLessThan(s.indexOf('vllm serve'));
    expect(s).not.toContain('--dashboard-host=0.0.0.0'); // Ray's job API stays on localhost
  });

  it('leaves out the optional flags when not given', () => {
    const s = script(main(leaderOf(renderLeaderWorkerSet(renderInput()))));
    for (const flag of [
      '--max-model-len',
      '--dtype',
      '--gpu-memory-utilization',
      '--max-num-seqs',
      '--load-format',
    ]) {
      expect(s).not.toContain(flag);
    }
  });

  it('serves on the named port http with /health probes (generous at startup)', () => {
    expect(leader.ports).toEqual([{ name: 'http', containerPort: 8000, protocol: 'TCP' }]);
    expect(leader.readinessProbe?.httpGet).toEqual({ path: '/health', port: 'http', scheme: 'HTTP' });
    expect(leader.startupProbe?.httpGet).toEqual({ path: '/health', port: 'http', scheme: 'HTTP' });
    const p = leader.startupProbe ?? {};
    expect((p.periodSeconds ?? 0) * (p.failureThreshold ?? 0)).toBeGreaterThanOrEqual(30 * 60);
    expect(leader.livenessProbe).toBeUndefined();
  });

  it('has the user environment, sorted, and no privilege escalation', () => {
    expect(leader.env).toEqual([{ name: 'VLLM_LOGGING_LEVEL', value: 'DEBUG' }]);
    expect(leader.securityContext).toEqual({ allowPrivilegeEscalation: false, privileged: false });
    const l = renderLeaderWorkerSet(
      renderInput({ service: { engine: { image: 'i', env: { Z: '1', A: '2', M: '3' } } } }),
    );
    expect(main(leaderOf(l)).env?.map((e) => e.name)).toEqual(['A', 'M', 'Z']);
  });

  it('takes the environment as a list too, with the same output', () => {
    const asList = renderInput({
      service: {
        engine: {
          image: 'i',
          env: [
            { name: 'Z', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
      },
    });
    const asMap = renderInput({ service: { engine: { image: 'i', env: { A: '2', Z: '1' } } } });
    expect(renderLeaderWorkerSet(asList)).toEqual(renderLeaderWorkerSet(asMap));
    const twice = renderInput({
      service: {
        engine: {
          image: 'i',
          env: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
      },
    });
    expect(issuesOf(twice)).toEqual({ 'engine.env[1]': 'A is set twice' });
    const reserved = renderInput({
      service: { engine: { image: 'i', env: [{ name: 'AWS_SECRET_ACCESS_KEY', value: 'x' }] } },
    });
    expect(issuesOf(reserved)['engine.env[0]']).toMatch(/set by the platform/);
  });

  it('mounts /dev/shm (memory emptyDir) and the weights at /models', () => {
    const spec = leaderOf(lws).spec;
    expect(leader.volumeMounts).toEqual([
      { name: 'dshm', mountPath: '/dev/shm' },
      { name: 'model-weights', mountPath: '/models', readOnly: true },
    ]);
    expect(spec.volumes).toEqual([
      { name: 'dshm', emptyDir: { medium: 'Memory' } },
      { name: 'model-weights', emptyDir: {} },
    ]);
    expect(spec.enableServiceLinks).toBe(false);
    expect(spec.terminationGracePeriodSeconds).toBe(60);
  });

  it('sizes the weights volume from the model size when known', () => {
    const l = renderLeaderWorkerSet(renderInput({ model: { weightBytes: 810_000_000_000 } }));
    expect(leaderOf(l).spec.volumes?.[1]).toEqual({
      name: 'model-weights',
      emptyDir: { sizeLimit: '831Gi' },
    });
  });

  it('passes node selector and tolerations to both templates', () => {
    const l = renderLeaderWorkerSet(
      renderInput({
        service: {
          nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', pool: 'gpu' },
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          terminationGracePeriodSeconds: 120,
        },
      }),
    );
    for (const t of [leaderOf(l), workerOf(l)]) {
      expect(Object.keys(t.spec.nodeSelector ?? {})).toEqual(['nvidia.com/gpu.product', 'pool']);
      expect(t.spec.tolerations).toEqual([
        { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      ]);
      expect(t.spec.terminationGracePeriodSeconds).toBe(120);
    }
  });
});

describe('renderLeaderWorkerSet: workers', () => {
  const lws = renderLeaderWorkerSet(
    renderInput({ service: { engine: { image: 'img:1', env: { NCCL_DEBUG: 'INFO' } } } }),
  );
  const worker = main(workerOf(lws));

  it('joins the leader Ray head and blocks, without a serving port or probes', () => {
    expect(worker.name).toBe('vllm-worker');
    expect(worker.image).toBe('img:1');
    expect(worker.command?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(script(worker)).toBe(workerScript());
    expect(script(worker)).toContain('ray start --address=$(LWS_LEADER_ADDRESS):6379 --block');
    expect(script(worker)).not.toContain('vllm serve');
    expect(worker.ports).toBeUndefined();
    expect(worker.readinessProbe).toBeUndefined();
    expect(worker.startupProbe).toBeUndefined();
  });

  it('gets the same GPUs, environment, /dev/shm and weights as the leader', () => {
    const leader = main(leaderOf(lws));
    expect(worker.resources).toEqual(leader.resources);
    expect(worker.env).toEqual([{ name: 'NCCL_DEBUG', value: 'INFO' }]);
    expect(worker.volumeMounts).toEqual(leader.volumeMounts);
    expect(workerOf(lws).spec.volumes).toEqual(leaderOf(lws).spec.volumes);
    expect(worker.securityContext).toEqual({ allowPrivilegeEscalation: false, privileged: false });
  });
});

describe('renderLeaderWorkerSet: weights', () => {
  it('fetches the version into /models/<name>/<version> with an init container on every pod', () => {
    const lws = renderLeaderWorkerSet(renderInput());
    for (const t of [leaderOf(lws), workerOf(lws)]) {
      expect(t.spec.initContainers).toHaveLength(1);
      const init = (t.spec.initContainers ?? [])[0];
      expect(init.name).toBe('fetch-weights');
      expect(init.image).toBe(DEFAULT_SYNC_IMAGE);
      expect(script(init)).toContain('aws s3 sync --endpoint-url "$S3_ENDPOINT"');
      const env = envOf(init);
      expect(env.SOURCE_URL.value).toBe('s3://troupe-models/proj/llama/v1/');
      expect(env.MODEL_DIR.value).toBe('/models/llama/v1');
      expect(env.S3_ENDPOINT.value).toBe('http://minio.storage:9000');
      expect(env.AWS_ACCESS_KEY_ID).toEqual({
        name: 'AWS_ACCESS_KEY_ID',
        valueFrom: { secretKeyRef: { name: 'troupe-storage', key: 'AWS_ACCESS_KEY_ID' } },
      });
      expect(env.AWS_SECRET_ACCESS_KEY).toEqual({
        name: 'AWS_SECRET_ACCESS_KEY',
        valueFrom: { secretKeyRef: { name: 'troupe-storage', key: 'AWS_SECRET_ACCESS_KEY' } },
      });
      expect(init.volumeMounts).toEqual([{ name: 'model-weights', mountPath: '/models' }]);
    }
  });

  it('takes another sync image, command and secret keys', () => {
    const lws = renderLeaderWorkerSet(
      renderInput({
        weights: {
          mode: 'init-container',
          syncImage: 'minio/mc:RELEASE.2025-01-17T23-25-50Z',
          syncCommand: [
            '/bin/sh',
            '-c',
            'mc alias set s3 "$S3_ENDPOINT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" && mc mirror "s3/$S3_BUCKET/$S3_PREFIX" "$MODEL_DIR"',
          ],
          credentialsSecret: 'creds',
          accessKeyIdKey: 'accesskey',
          secretAccessKeyKey: 'secretkey',
          bucket: 'bucket-1',
          endpoint: 'https://s3.example.com',
          region: 'eu-west-1',
        },
      }),
    );
    const init = (leaderOf(lws).spec.initContainers ?? [])[0];
    expect(init.image).toBe('minio/mc:RELEASE.2025-01-17T23-25-50Z');
    expect(script(init)).toMatch(/^mc alias set/);
    expect(envOf(init).AWS_SECRET_ACCESS_KEY.valueFrom?.secretKeyRef).toEqual({
      name: 'creds',
      key: 'secretkey',
    });
    expect(envOf(init).AWS_DEFAULT_REGION.value).toBe('eu-west-1');
  });

  it('streams from S3 with runai_streamer instead: no init container, credentials from the Secret', () => {
    const lws = renderLeaderWorkerSet(
      renderInput({
        weights: {
          mode: 'streamer',
          credentialsSecret: 'troupe-storage',
          bucket: 'troupe-models',
          endpoint: 'http://minio.storage:9000',
        },
        service: { engine: { image: 'vllm/vllm-openai:v0.10.1', env: { HF_HUB_OFFLINE: '1' } } },
      }),
    );
    const s = script(main(leaderOf(lws)));
    expect(s).toContain('exec vllm serve s3://troupe-models/proj/llama/v1/ --served-model-name llama-405b');
    expect(s).toContain('--load-format runai_streamer');
    for (const t of [leaderOf(lws), workerOf(lws)]) {
      expect(t.spec.initContainers).toBeUndefined();
      expect(t.spec.volumes).toEqual([{ name: 'dshm', emptyDir: { medium: 'Memory' } }]);
      expect(main(t).volumeMounts).toEqual([{ name: 'dshm', mountPath: '/dev/shm' }]);
      const env = envOf(main(t));
      expect(env.AWS_ACCESS_KEY_ID.valueFrom?.secretKeyRef).toEqual({
        name: 'troupe-storage',
        key: 'AWS_ACCESS_KEY_ID',
      });
      expect(env.AWS_SECRET_ACCESS_KEY.valueFrom?.secretKeyRef).toEqual({
        name: 'troupe-storage',
        key: 'AWS_SECRET_ACCESS_KEY',
      });
      expect(env.AWS_ENDPOINT_URL.value).toBe('http://minio.storage:9000');
      expect(env.HF_HUB_OFFLINE.value).toBe('1');
    }
    const withLoadFormat = renderInput({
      weights: {
        mode: 'streamer',
        credentialsSecret: 's',
        bucket: 'troupe-models',
        endpoint: 'http://m:9000',
      },
      service: { engine: { image: 'i', extraArgs: ['--load-format', 'safetensors'] } },
    });
    expect(issuesOf(withLoadFormat)['engine.extraArgs[0]']).toMatch(/--load-format is set by the platform/);
  });

  it.each(['init-container', 'streamer'] as const)('%s: credentials appear only as secretKeyRef', (mode) => {
    const lws = renderLeaderWorkerSet(
      renderInput({
        weights: {
          mode,
          credentialsSecret: 'troupe-storage',
          bucket: 'troupe-models',
          endpoint: 'http://m:9000',
        },
      }),
    );
    let refs = 0;
    for (const o of objectsIn(lws)) {
      if (
        typeof o.name === 'string' &&
        /SECRET|ACCESS_KEY|TOKEN|PASSWORD/.test(o.name) &&
        ('value' in o || 'valueFrom' in o)
      ) {
        expect(o).not.toHaveProperty('value');
        expect(o).toHaveProperty(['valueFrom', 'secretKeyRef', 'name'], 'troupe-storage');
        refs++;
      }
    }
    expect(refs).toBe(4); // access key id + secret key, on the leader and on the workers
  });

  it('refuses credentials (or anything the platform sets) in the user environment', () => {
    for (const name of [
      'AWS_SECRET_ACCESS_KEY',
      'AWS_ACCESS_KEY_ID',
      'AWS_SESSION_TOKEN',
      'LWS_GROUP_SIZE',
      'MODEL_DIR',
    ]) {
      const input = renderInput({ service: { engine: { image: 'i', env: { [name]: 'x' } } } });
      expect(issuesOf(input)[`engine.env.${name}`]).toMatch(/set by the platform/);
    }
    const bad = renderInput({ service: { engine: { image: 'i', env: { 'BAD-NAME': 'x', '1X': 'y' } } } });
    expect(Object.keys(issuesOf(bad)).sort()).toEqual(['engine.env.1X', 'engine.env.BAD-NAME']);
  });
});

describe('renderLeaderWorkerSet: quoting of user values', () => {
  it.skipIf(!existsSync('/bin/sh'))(
    'passes every nasty extra argument to vllm unchanged, despite $(VAR) expansion',
    () => {
      const extraArgs = NASTY.map((v, i) => `--x${i}=${v}`);
      const input = renderInput({
        service: { servedModelName: 'm$(SECRET)`id`;x', engine: { image: 'i', extraArgs } },
      });
      const s = script(main(leaderOf(renderLeaderWorkerSet(input))));
      const serve = s.slice(s.indexOf('exec vllm serve '));
      // Kubernetes expands $(SECRET) first; then sh runs the line with `vllm serve` replaced by printf.
      const line = kubeExpand(serve, { SECRET: "'; echo pwned; '" }).replace(
        /^exec vllm serve /,
        "printf '%s\\0' ",
      );
      const out = execFileSync('/bin/sh', ['-c', line], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
      expect(out.split('\0').slice(0, -1)).toEqual(vllmServeArgs(input).slice(2));
      expect(out).toContain('--served-model-name\0m$(SECRET)`id`;x\0');
    },
  );

  it('keeps user values out of everything but the quoted serve arguments', () => {
    const input = renderInput({
      service: { engine: { image: 'i', extraArgs: ['--chat-template', "{{ x }}'; rm -rf / #"] } },
    });
    expect(leaderScript(input)).toContain(`--chat-template '{{ x }}'\\''; rm -rf / #'`);
  });

  it.each<[string, Partial<ServiceRenderSpec>]>([
    ['name', { name: 'a'.repeat(48) }],
    ['name', { name: '9lives' }],
    ['namespace', { namespace: 'Team A' }],
    ['servedModelName', { servedModelName: 'has space' }],
    ['servedModelName', { servedModelName: '' }],
    ['engine.image', { engine: { image: 'img; rm -rf /' } }],
    ['engine.dtype', { engine: { image: 'i', dtype: 'bf16; id' } }],
    ['engine.maxModelLen', { engine: { image: 'i', maxModelLen: 1.5 } }],
    ['engine.gpuMemoryUtilization', { engine: { image: 'i', gpuMemoryUtilization: 1.5 } }],
    ['engine.maxNumSeqs', { engine: { image: 'i', maxNumSeqs: 0 } }],
    ['engine.extraArgs[0]', { engine: { image: 'i', extraArgs: ['--tensor-parallel-size=2'] } }],
    ['rollout.maxUnavailable', { rollout: { maxUnavailable: '150%' } }],
    ['rollout.maxSurge', { rollout: { maxSurge: -1 } }],
    ['rollout.partition', { rollout: { partition: -1 } }],
    ['placement.restartPolicy', { placement: { restartPolicy: 'Default' as 'None' } }],
    ['placement.startupPolicy', { placement: { startupPolicy: 'Eventually' as 'LeaderReady' } }],
    ['nodeSelector.pool', { nodeSelector: { pool: 'a b' } }],
    ['terminationGracePeriodSeconds', { terminationGracePeriodSeconds: -5 }],
    ['projectId', { projectId: 'not a label value' }],
  ])('refuses a bad %s', (field, service) => {
    expect(issuesOf(renderInput({ service }))).toHaveProperty([field]);
  });

  it.each<[string, Partial<ModelRef>]>([
    ['model.name', { name: '..' }],
    ['model.name', { name: 'a/b' }],
    ['model.version', { version: 'v1 ; id' }],
    ['model.storagePrefix', { storagePrefix: 'proj/llama/v1' }],
    ['model.storagePrefix', { storagePrefix: '/abs/' }],
    ['model.storagePrefix', { storagePrefix: 'proj/../other/' }],
    ['model.versionId', { versionId: '' }],
    ['model.weightBytes', { weightBytes: -1 }],
  ])('refuses a bad %s', (field, model) => {
    expect(issuesOf(renderInput({ model }))).toHaveProperty([field]);
  });

  it.each<[string, Partial<InitContainerWeights>]>([
    ['weights.bucket', { bucket: 'Bad_Bucket' }],
    ['weights.endpoint', { endpoint: 'minio:9000' }],
    ['weights.endpoint', { endpoint: 'http://user:pass@minio:9000' }],
    ['weights.credentialsSecret', { credentialsSecret: 'Bad Secret' }],
    ['weights.accessKeyIdKey', { accessKeyIdKey: 'a key' }],
    ['weights.syncImage', { syncImage: 'x y' }],
    ['weights.syncCommand', { syncCommand: [] }],
  ] as const)('refuses a bad %s', (field, weights) => {
    const base = {
      mode: 'init-container',
      credentialsSecret: 's',
      bucket: 'troupe-models',
      endpoint: 'http://m:9000',
    } as const;
    expect(issuesOf(renderInput({ weights: { ...base, ...weights } }))).toHaveProperty([field]);
  });

  it('accepts the valid input with no issues', () => {
    expect(validateRenderInput(renderInput())).toEqual([]);
  });
});

describe('renderLeaderWorkerSet: scripts parse', () => {
  const lws = renderLeaderWorkerSet(
    renderInput({ service: { engine: { image: 'i', extraArgs: ['--x', "a'b$(c)"] } } }),
  );
  const containers: Container[] = [leaderOf(lws), workerOf(lws)].flatMap((t) => [
    ...(t.spec.initContainers ?? []),
    ...t.spec.containers,
  ]);
  const lwsEnv = {
    LWS_LEADER_ADDRESS: 'llama-405b-0.llama-405b.team-a',
    LWS_GROUP_SIZE: '2',
    LWS_WORKER_INDEX: '0',
  };

  it.skipIf(!existsSync('/bin/sh'))(
    'every sh -c script is valid POSIX shell after Kubernetes expansion',
    () => {
      expect(containers).toHaveLength(4);
      for (const c of containers) {
        expect(c.command?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
        execFileSync('/bin/sh', ['-n', '-c', kubeExpand(script(c), lwsEnv)]);
      }
      expect(kubeExpand(script(main(workerOf(lws))), lwsEnv)).toContain(
        'ray start --address=llama-405b-0.llama-405b.team-a:6379 --block',
      );
    },
  );

  const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));
  it.skipIf(!python)('the leader’s wait-for-workers Python compiles', () => {
    const s = script(main(leaderOf(lws)));
    const code = /python3 -c '([^']*)'/.exec(s)?.[1];
    expect(code).toContain('LWS_GROUP_SIZE');
    execFileSync(python as string, ['-c', 'import sys; compile(sys.stdin.read(), "wait", "exec")'], {
      input: code,
    });
  });
});

describe('renderLeaderWorkerSet: determinism', () => {
  it('renders deep-equal objects with the same key order for the same input', () => {
    const a = renderLeaderWorkerSet(
      renderInput({
        service: { engine: { image: 'i', env: { B: '1', A: '2' } }, nodeSelector: { z: '1', a: '2' } },
        labels: { y: '1', x: '2' },
      }),
    );
    const b = renderLeaderWorkerSet(
      renderInput({
        service: { engine: { image: 'i', env: { A: '2', B: '1' } }, nodeSelector: { a: '2', z: '1' } },
        labels: { x: '2', y: '1' },
      }),
    );
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(toYaml(b)).toBe(toYaml(a));
  });

  it('does not share or keep references to the input', () => {
    const input = renderInput({
      service: {
        tolerations: [{ key: 'k', operator: 'Exists' }],
        engine: { image: 'i', extraArgs: ['--enforce-eager'] },
      },
    });
    const before = JSON.stringify(input);
    const lws = renderLeaderWorkerSet(input);
    expect(JSON.stringify(input)).toBe(before);
    leaderOf(lws).spec.tolerations?.push({ key: 'x' });
    expect(input.service.tolerations).toHaveLength(1);
    expect(workerOf(lws).spec.tolerations).toHaveLength(1);
  });

  it('holds no undefined values (what is absent is left out)', () => {
    const lws = renderLeaderWorkerSet(renderInput());
    for (const o of objectsIn(lws)) for (const v of Object.values(o)) expect(v).not.toBeUndefined();
  });

  it('spec hash changes with the template, not with replicas', () => {
    const base = renderLeaderWorkerSet(renderInput());
    const scaled = renderLeaderWorkerSet(renderInput({ service: { replicas: 7 } }));
    const newImage = renderLeaderWorkerSet(
      renderInput({ service: { engine: { image: 'vllm/vllm-openai:v0.11.0' } } }),
    );
    const newVersion = renderLeaderWorkerSet(
      renderInput({ model: { version: 'v2', storagePrefix: 'proj/llama/v2/', versionId: 'v2id' } }),
    );
    const hash = (l: LeaderWorkerSet): string | undefined => l.metadata.annotations?.['troupe.io/spec-hash'];
    expect(hash(scaled)).toBe(hash(base));
    expect(hash(newImage)).not.toBe(hash(base));
    expect(hash(newVersion)).not.toBe(hash(base));
  });

  it('YAML manifest parses back to the same object', () => {
    const lws = renderLeaderWorkerSet(
      renderInput({ service: { engine: { image: 'i', extraArgs: ["--x='$(y)'"] } } }),
    );
    expect(parse(toYaml(lws))).toEqual(lws);
  });
});

describe('renderLeaderWorkerSet: SGLang', () => {
  const sglang = (over: Parameters<typeof renderInput>[0] = {}): RenderInput =>
    renderInput({
      ...over,
      service: {
        engine: { kind: 'sglang', image: 'lmsysorg/sglang:v0.5.3', ...over.service?.engine },
        ...over.service,
        ...(over.service?.engine ? { engine: { kind: 'sglang', ...over.service.engine } } : {}),
      },
    });
  const lwsEnv = (worker: number) => ({
    LWS_LEADER_ADDRESS: 'llama-405b-0.llama-405b.team-a',
    LWS_GROUP_SIZE: '2',
    LWS_WORKER_INDEX: String(worker),
  });
  /** The argv SGLang receives once Kubernetes expanded the command with the pod's LWS variables. */
  const argvOf = (c: Container, worker: number): string[] =>
    (c.command ?? []).map((w) => kubeExpand(w, lwsEnv(worker)));

  it.each<[string, Partial<ServiceRenderSpec>, string[]]>([
    [
      'TP 8 × PP 2 on 8-GPU nodes: two nodes, pipeline across them',
      { parallelism: { tensor: 8, pipeline: 2 } },
      ['--tp', '8', '--pp-size', '2', '--nnodes', '2'],
    ],
    [
      'TP 8 on one node: no --pp-size',
      { parallelism: { tensor: 8, pipeline: 1 } },
      ['--tp', '8', '--nnodes', '1'],
    ],
    [
      'TP 16 across two nodes when asked',
      { parallelism: { tensor: 16, pipeline: 1, allowTensorAcrossNodes: true } },
      ['--tp', '16', '--nnodes', '2'],
    ],
    [
      'TP 4 × PP 4: two stages per node',
      { parallelism: { tensor: 4, pipeline: 4 } },
      ['--tp', '4', '--pp-size', '4', '--nnodes', '2'],
    ],
    ['TP 2 on part of a node', { parallelism: { tensor: 2, pipeline: 1 } }, ['--tp', '2', '--nnodes', '1']],
  ])('%s', (_name, service, parallel) => {
    const lws = renderLeaderWorkerSet(sglang({ service }));
    const argv = argvOf(main(leaderOf(lws)), 0);
    expect(argv.slice(0, 3)).toEqual(['python3', '-m', 'sglang.launch_server']);
    const at = argv.indexOf('--tp');
    expect(argv.slice(at, at + parallel.length)).toEqual(parallel);
    expect(argv.filter((a) => a === '--pp-size')).toHaveLength(service.parallelism!.pipeline > 1 ? 1 : 0);
  });

  describe('a two-node group (TP 8 × PP 2)', () => {
    const input = sglang({
      service: {
        engine: {
          image: 'lmsysorg/sglang:v0.5.3',
          maxModelLen: 32768,
          dtype: 'bfloat16',
          gpuMemoryUtilization: 0.85,
          maxNumSeqs: 64,
          extraArgs: ['--enable-torch-compile', '--chunked-prefill-size', '4096'],
          env: { NCCL_DEBUG: 'INFO' },
        },
      },
    });
    const lws = renderLeaderWorkerSet(input);
    const leader = main(leaderOf(lws));
    const worker = main(workerOf(lws));

    it('every pod runs sglang.launch_server with the platform flags, no shell, no Ray', () => {
      expect(argvOf(leader, 0)).toEqual([
        'python3',
        '-m',
        'sglang.launch_server',
        '--model-path',
        '/models/llama/v1',
        '--served-model-name',
        'llama-405b',
        '--tp',
        '8',
        '--pp-size',
        '2',
        '--nnodes',
        '2',
        '--node-rank',
        '0',
        '--dist-init-addr',
        'llama-405b-0.llama-405b.team-a:20000',
        '--host',
        '0.0.0.0',
        '--port',
        '30000',
        '--enable-metrics',
        '--context-length',
        '32768',
        '--dtype',
        'bfloat16',
        '--mem-fraction-static',
        '0.85',
        '--max-running-requests',
        '64',
        '--enable-torch-compile',
        '--chunked-prefill-size',
        '4096',
      ]);
      expect(JSON.stringify(lws)).not.toMatch(/ray |vllm/);
    });

    it('workers run the same command; their rank comes from LWS_WORKER_INDEX', () => {
      expect(worker.command).toEqual(leader.command);
      const argv = argvOf(worker, 1);
      expect(argv[argv.indexOf('--node-rank') + 1]).toBe('1');
      expect(argv[argv.indexOf('--dist-init-addr') + 1]).toBe('llama-405b-0.llama-405b.team-a:20000');
    });

    it('only the leader serves HTTP: port 30000 named http, /health readiness and startup probes', () => {
      expect(leader.name).toBe('sglang-leader');
      expect(leader.ports).toEqual([{ name: 'http', containerPort: 30000, protocol: 'TCP' }]);
      expect(leader.readinessProbe?.httpGet).toEqual({ path: '/health', port: 'http', scheme: 'HTTP' });
      expect(leader.startupProbe?.httpGet).toEqual({ path: '/health', port: 'http', scheme: 'HTTP' });
      expect(worker.name).toBe('sglang-worker');
      expect(worker.ports).toBeUndefined();
      expect(worker.readinessProbe).toBeUndefined();
      expect(worker.startupProbe).toBeUndefined();
      expect(leaderOf(lws).metadata?.labels?.role).toBe('leader');
    });

    it('GPUs per pod, /dev/shm, weights and environment as for vLLM', () => {
      const vllm = renderLeaderWorkerSet(
        renderInput({ service: { engine: { image: 'i', env: { NCCL_DEBUG: 'INFO' } } } }),
      );
      for (const [ours, theirs] of [
        [leader, main(leaderOf(vllm))],
        [worker, main(workerOf(vllm))],
      ]) {
        expect(ours.resources).toEqual({
          limits: { 'nvidia.com/gpu': '8' },
          requests: { 'nvidia.com/gpu': '8' },
        });
        expect(ours.volumeMounts).toEqual(theirs.volumeMounts);
        expect(ours.env).toEqual(theirs.env);
      }
      expect(leaderOf(lws).spec.volumes).toEqual(leaderOf(vllm).spec.volumes);
      expect(leaderOf(lws).spec.initContainers).toEqual(leaderOf(vllm).spec.initContainers);
      expect(lws.spec.leaderWorkerTemplate.size).toBe(2);
      expect(lws.spec.leaderWorkerTemplate.restartPolicy).toBe('RecreateGroupOnPodRestart');
      expect(lws.spec.startupPolicy).toBe('LeaderCreated');
    });
  });

  it('streams the weights from S3 with runai_streamer when asked', () => {
    const lws = renderLeaderWorkerSet(
      sglang({
        weights: {
          mode: 'streamer',
          credentialsSecret: 's',
          bucket: 'troupe-models',
          endpoint: 'http://m:9000',
        },
      }),
    );
    const argv = argvOf(main(leaderOf(lws)), 0);
    expect(argv[argv.indexOf('--model-path') + 1]).toBe('s3://troupe-models/proj/llama/v1/');
    expect(argv[argv.indexOf('--load-format') + 1]).toBe('runai_streamer');
    expect(leaderOf(lws).spec.initContainers).toBeUndefined();
    expect(envOf(main(workerOf(lws))).AWS_ENDPOINT_URL.value).toBe('http://m:9000');
  });

  it('leaves out the optional flags when not given', () => {
    const argv = argvOf(main(leaderOf(renderLeaderWorkerSet(sglang()))), 0);
    for (const flag of [
      '--context-length',
      '--dtype',
      '--mem-fraction-static',
      '--max-running-requests',
      '--load-format',
    ])
      expect(argv).not.toContain(flag);
  });

  it('passes user values to SGLang unchanged, despite $(VAR) expansion (no shell to quote for)', () => {
    const extraArgs = NASTY.map((v, i) => `--x${i}=${v}`);
    const input = sglang({
      service: { servedModelName: 'm$(SECRET)`id`;x', engine: { image: 'i', extraArgs } },
    });
    const argv = (main(leaderOf(renderLeaderWorkerSet(input))).command ?? []).map((w) =>
      kubeExpand(w, { ...lwsEnv(0), SECRET: 'leaked' }),
    );
    expect(argv[argv.indexOf('--served-model-name') + 1]).toBe('m$(SECRET)`id`;x');
    expect(argv.slice(-extraArgs.length)).toEqual(extraArgs);
    expect(argv.join(' ')).not.toContain('leaked');
  });

  it.each<[string, RenderInput, string, RegExp]>([
    [
      'an owned flag in extraArgs',
      sglang({ service: { engine: { image: 'i', extraArgs: ['--log-requests', '--tp', '2'] } } }),
      'engine.extraArgs[1]',
      /--tp is set by the platform: set it with parallelism.tensor/,
    ],
    [
      'the rank or rendezvous in extraArgs',
      sglang({ service: { engine: { image: 'i', extraArgs: ['--node-rank=1'] } } }),
      'engine.extraArgs[0]',
      /--node-rank is set by the platform/,
    ],
    [
      '--load-format when streaming',
      sglang({
        weights: {
          mode: 'streamer',
          credentialsSecret: 's',
          bucket: 'troupe-models',
          endpoint: 'http://m:9000',
        },
        service: { engine: { image: 'i', extraArgs: ['--load-format', 'auto'] } },
      }),
      'engine.extraArgs[0]',
      /--load-format is set by the platform/,
    ],
    [
      'restartPolicy None for a multi-pod group',
      sglang({ service: { placement: { restartPolicy: 'None' } } }),
      'placement.restartPolicy',
      /recreated together \(RecreateGroupOnPodRestart\)/,
    ],
    [
      'LeaderReady for a multi-pod group',
      sglang({ service: { placement: { startupPolicy: 'LeaderReady' } } }),
      'placement.startupPolicy',
      /SGLang \/health/,
    ],
    [
      'a layout SGLang cannot split over its nodes',
      sglang({ service: { parallelism: { tensor: 12, pipeline: 2, allowTensorAcrossNodes: true } } }),
      'parallelism',
      /TP 12 × PP 2 over 3 nodes of 8 GPUs does not split evenly/,
    ],
    [
      'an unknown dtype',
      sglang({ service: { engine: { image: 'i', dtype: 'fp4' } } }),
      'engine.dtype',
      /must be one of auto, half/,
    ],
  ])('refuses %s, naming the field', (_name, input, field, message) => {
    expect(issuesOf(input)[field]).toMatch(message);
    expect(() => renderLeaderWorkerSet(input)).toThrow(AppException);
  });

  it('accepts restartPolicy None for a single-pod group (nothing to recreate with it)', () => {
    const input = sglang({
      service: { parallelism: { tensor: 8, pipeline: 1 }, placement: { restartPolicy: 'None' } },
    });
    expect(renderLeaderWorkerSet(input).spec.leaderWorkerTemplate.restartPolicy).toBe('None');
  });

  it('refuses an engine kind it does not know, and vLLM flags are not refused for SGLang nor the reverse', () => {
    const unknown = renderInput({ service: { engine: { kind: 'tgi' as 'vllm', image: 'i' } } });
    expect(issuesOf(unknown)['engine.kind']).toBe('must be one of vllm, sglang');
    const vllmFlag = sglang({
      service: { engine: { image: 'i', extraArgs: ['--distributed-executor-backend', 'mp'] } },
    });
    expect(validateRenderInput(vllmFlag)).toEqual([]);
    const sglangFlag = renderInput({ service: { engine: { image: 'i', extraArgs: ['--nnodes', '2'] } } });
    expect(validateRenderInput(sglangFlag)).toEqual([]);
  });

  it('an explicit vllm kind renders exactly what no kind renders (existing services unchanged)', () => {
    const implicit = renderLeaderWorkerSet(renderInput());
    const explicit = renderLeaderWorkerSet(
      renderInput({
        service: { engine: { kind: 'vllm', image: 'vllm/vllm-openai:v0.10.1', extraArgs: [], env: {} } },
      }),
    );
    expect(explicit).toEqual(implicit);
    expect(renderLeaderWorkerSet(sglang()).metadata.annotations?.['troupe.io/spec-hash']).not.toBe(
      implicit.metadata.annotations?.['troupe.io/spec-hash'],
    );
  });
});

describe('sglangNodeSplit: how SGLang places tp × pp ranks over nodes', () => {
  it.each<[number, number, number, ReturnType<typeof sglangNodeSplit>]>([
    [8, 1, 1, { stagesPerNode: 1, nodesPerStage: 1, tensorPerNode: 8 }],
    [8, 2, 2, { stagesPerNode: 1, nodesPerStage: 1, tensorPerNode: 8 }],
    [16, 1, 2, { stagesPerNode: 1, nodesPerStage: 2, tensorPerNode: 8 }],
    [16, 2, 4, { stagesPerNode: 1, nodesPerStage: 2, tensorPerNode: 8 }],
    [4, 4, 2, { stagesPerNode: 2, nodesPerStage: 1, tensorPerNode: 4 }],
    [4, 6, 3, { stagesPerNode: 2, nodesPerStage: 1, tensorPerNode: 4 }],
    [2, 4, 1, { stagesPerNode: 4, nodesPerStage: 1, tensorPerNode: 2 }],
    [12, 2, 3, null], // 3 nodes cannot be shared by 2 stages
    [8, 3, 2, null],
    [6, 1, 4, null], // 6 tensor ranks over 4 nodes
  ])('TP %i × PP %i over %i nodes', (tensor, pipeline, nodes, expected) => {
    const split = sglangNodeSplit(tensor, pipeline, nodes);
    expect(split).toEqual(expected);
    if (split) expect(split.tensorPerNode * split.stagesPerNode * nodes).toBe(tensor * pipeline);
  });
});
