/**
 * Gateway limits a project applies to each of its API keys. In the stored JSON (`projects.limits`) a
 * missing or null field means "the platform default" (GATEWAY_DEFAULT_* settings); 0 means unlimited.
 */
export interface ProjectLimits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrentStreams: number | null;
}

/** The limits in force for a key: every field resolved to a number, 0 = unlimited. */
export interface EffectiveLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
  concurrentStreams: number;
}

export const LIMIT_FIELDS = ['requestsPerMinute', 'tokensPerMinute', 'concurrentStreams'] as const;

/** Published with `{"projectId": "..."}` after a project's limits change, so gateways reload them at once. */
export const PROJECT_LIMITS_CHANGED_CHANNEL = 'troupe:projects:limits-changed';

/** Reads the stored JSON defensively: anything that is not a whole number >= 0 counts as unset. */
export function parseStoredLimits(json: unknown): ProjectLimits {
  const obj =
    json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
  const field = (name: (typeof LIMIT_FIELDS)[number]): number | null => {
    const v = obj[name];
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
  };
  return {
    requestsPerMinute: field('requestsPerMinute'),
    tokensPerMinute: field('tokensPerMinute'),
    concurrentStreams: field('concurrentStreams'),
  };
}

/** A project's fields where set, the platform defaults elsewhere. */
export function effectiveLimits(project: ProjectLimits | null, defaults: EffectiveLimits): EffectiveLimits {
  return {
    requestsPerMinute: project?.requestsPerMinute ?? defaults.requestsPerMinute,
    tokensPerMinute: project?.tokensPerMinute ?? defaults.tokensPerMinute,
    concurrentStreams: project?.concurrentStreams ?? defaults.concurrentStreams,
  };
}

/** A PATCH: a given field replaces the stored one (null resets it to the default), absent fields stay. */
export function mergeLimits(current: ProjectLimits, patch: Partial<ProjectLimits> | null): ProjectLimits {
  if (patch === null) return { requestsPerMinute: null, tokensPerMinute: null, concurrentStreams: null };
  return {
    requestsPerMinute:
      patch.requestsPerMinute === undefined ? current.requestsPerMinute : patch.requestsPerMinute,
    tokensPerMinute: patch.tokensPerMinute === undefined ? current.tokensPerMinute : patch.tokensPerMinute,
    concurrentStreams:
      patch.concurrentStreams === undefined ? current.concurrentStreams : patch.concurrentStreams,
  };
}
