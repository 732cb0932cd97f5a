// Condensed openAPIV3Schema of LeaderWorkerSet v1, used when the upstream CRD file
// (../shared/reference/lws-v0.7.0-crd.yaml) is not available. It covers what the controller relies on;
// pod templates keep unknown fields.

import type { JSONSchemaProps } from '../schema/structural';

const str: JSONSchemaProps = { type: 'string' };
const strMap: JSONSchemaProps = { type: 'object', additionalProperties: { type: 'string' } };
const intOrString = (dflt: number): JSONSchemaProps => ({
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  default: dflt,
  'x-kubernetes-int-or-string': true,
});

const container: JSONSchemaProps = {
  type: 'object',
  required: ['name'],
  'x-kubernetes-preserve-unknown-fields': true,
  properties: {
    name: str,
    image: str,
    command: { type: 'array', items: str },
    args: { type: 'array', items: str },
  },
};

const podTemplate: JSONSchemaProps = {
  type: 'object',
  properties: {
    metadata: {
      type: 'object',
      properties: {
        annotations: strMap,
        labels: strMap,
        finalizers: { type: 'array', items: str },
        name: str,
        namespace: str,
      },
    },
    spec: {
      type: 'object',
      required: ['containers'],
      'x-kubernetes-preserve-unknown-fields': true,
      properties: {
        containers: {
          type: 'array',
          items: container,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
        initContainers: {
          type: 'array',
          items: container,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
        nodeSelector: strMap,
      },
    },
  },
};

const condition: JSONSchemaProps = {
  type: 'object',
  required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'],
  properties: {
    lastTransitionTime: { type: 'string', format: 'date-time' },
    message: { type: 'string', maxLength: 32768 },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    reason: {
      type: 'string',
      maxLength: 1024,
      minLength: 1,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    type: { type: 'string', maxLength: 316 },
  },
};

export const CONDENSED_LWS_SCHEMA: JSONSchemaProps = {
  type: 'object',
  properties: {
    apiVersion: str,
    kind: str,
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['leaderWorkerTemplate'],
      properties: {
        replicas: { type: 'integer', format: 'int32', default: 1, minimum: 0 },
        startupPolicy: { type: 'string', default: 'LeaderCreated', enum: ['LeaderCreated', 'LeaderReady'] },
        leaderWorkerTemplate: {
          type: 'object',
          required: ['workerTemplate'],
          properties: {
            size: { type: 'integer', format: 'int32', default: 1, minimum: 1 },
            restartPolicy: {
              type: 'string',
              default: 'RecreateGroupOnPodRestart',
              enum: ['Default', 'RecreateGroupOnPodRestart', 'None'],
            },
            leaderTemplate: podTemplate,
            workerTemplate: podTemplate,
            subGroupPolicy: {
              type: 'object',
              properties: {
                subGroupPolicyType: {
                  type: 'string',
                  default: 'LeaderWorker',
                  enum: ['LeaderWorker', 'LeaderExcluded'],
                },
                subGroupSize: { type: 'integer', format: 'int32' },
              },
            },
            volumeClaimTemplates: {
              type: 'array',
              items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
        rolloutStrategy: {
          type: 'object',
          required: ['type'],
          properties: {
            type: { type: 'string', default: 'RollingUpdate', enum: ['RollingUpdate'] },
            rollingUpdateConfiguration: {
              type: 'object',
              properties: {
                maxSurge: intOrString(0),
                maxUnavailable: intOrString(1),
                partition: { type: 'integer', format: 'int32', default: 0 },
              },
            },
          },
        },
        networkConfig: {
          type: 'object',
          required: ['subdomainPolicy'],
          properties: { subdomainPolicy: { type: 'string', enum: ['Shared', 'UniquePerReplica'] } },
        },
      },
    },
    status: {
      type: 'object',
      properties: {
        conditions: { type: 'array', items: condition },
        hpaPodSelector: str,
        readyReplicas: { type: 'integer', format: 'int32' },
        replicas: { type: 'integer', format: 'int32' },
        updatedReplicas: { type: 'integer', format: 'int32' },
      },
    },
  },
};

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export const DEFAULT_LWS_PRINTER_COLUMNS: PrinterColumn[] = [
  {
    name: 'Ready',
    type: 'integer',
    jsonPath: '.status.readyReplicas',
    description: 'Number of ready replicas',
  },
  { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas', description: 'Number of desired replicas' },
  {
    name: 'Up-to-date',
    type: 'integer',
    jsonPath: '.status.updatedReplicas',
    description: 'Number of up-to-date replicas',
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];
