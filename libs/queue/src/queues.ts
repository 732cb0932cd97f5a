/**
 * Every BullMQ queue of the platform, the jobs it carries and their payloads. Producers and
 * processors both type against this map, so a payload cannot drift between them.
 */
export const QueueName = {
  /** Housekeeping on a schedule: pruning revoked keys, expiring abandoned work. */
  Maintenance: 'maintenance',
  /** Reads an uploaded model version's config and safetensors headers; marks it READY or FAILED. */
  ModelVerification: 'model-verification',
  /** Renders a service's LeaderWorkerSet and applies it (or deletes it); resync repairs drift. */
  Deploy: 'deploy',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export interface JobPayloads {
  [QueueName.Maintenance]: {
    /** Deletes keys revoked longer ago than the retention. */
    'prune-revoked-keys': { retentionDays: number };
    /** Aborts upload sessions past their TTL, in S3 and in the database. */
    'expire-upload-sessions': Record<string, never>;
  };
  [QueueName.ModelVerification]: {
    'verify-version': { versionId: string };
  };
  [QueueName.Deploy]: {
    reconcile: { serviceId: string };
    /** Re-applies every live service: an LWS deleted or edited by hand comes back. */
    resync: Record<string, never>;
  };
}

export type JobName<Q extends QueueName> = keyof JobPayloads[Q] & string;
export type JobPayload<Q extends QueueName, N extends JobName<Q>> = JobPayloads[Q][N];

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);
