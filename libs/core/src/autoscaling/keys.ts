// Redis names shared by the gateway (writer) and the autoscaler (reader): contracts.md item 2.

/** Redis channel on which gateways ask for a tick of a service scaled to zero: `{serviceId, at}`. */
export const AUTOSCALER_WAKE_CHANNEL = 'troupe:autoscaler:wake';
/**
 * Redis key of the lease that lets one worker process act as the autoscaler: one per deployment, named
 * after QUEUE_PREFIX (default `troupe` -> `troupe:autoscaler:lease`), so that deployments (or test runs)
 * sharing a Redis each have their own actor.
 */
export function autoscalerLeaseKey(prefix: string): string {
  return `${prefix}:autoscaler:lease`;
}
/** Per gateway process: hash of service id -> `{"inflight":n,"held":n}`, TTL 5 s. */
export const GATEWAY_LOAD_KEY_PREFIX = 'troupe:gateway:load:';
/** Sorted set of live gateway process ids, score = ms epoch of their last write. */
export const GATEWAY_PROCESSES_KEY = 'troupe:gateway:processes';
/** Readers ignore gateway processes not seen for this long. */
export const GATEWAY_PROCESS_STALE_MS = 10_000;
