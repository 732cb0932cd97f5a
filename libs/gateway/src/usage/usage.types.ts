/** One proxied request, as the gateway reports it once the response ended. */
export interface UsageEntry {
  projectId: string;
  serviceId: string | null;
  serviceName: string;
  apiKeyId: string | null;
  endpoint: string;
  status: number;
  promptTokens: number;
  completionTokens: number;
  durationMs: number;
  createdAt: Date;
}

export const USAGE_GROUPS = ['service', 'key', 'day'] as const;
export type UsageGroupBy = (typeof USAGE_GROUPS)[number];

export interface UsageQuery {
  from?: Date;
  to?: Date;
  groupBy: UsageGroupBy;
  /** admins: narrow to one project; members: their own (another one finds nothing) */
  projectId?: string;
}

export interface UsageTotals {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export type UsageGroupView = UsageTotals &
  (
    | { projectId: string; serviceId: string | null; serviceName: string }
    | { projectId: string; apiKeyId: string | null; keyName: string | null }
    | { day: string }
  );

export interface UsageView {
  from: string;
  to: string;
  groupBy: UsageGroupBy;
  /** the project the totals are for, null when an admin asked for every project */
  projectId: string | null;
  data: UsageGroupView[];
  totals: UsageTotals;
}

/** The longest range one query may cover. */
export const USAGE_MAX_RANGE_DAYS = 400;
/** The range when `from` is not given. */
export const USAGE_DEFAULT_RANGE_DAYS = 30;
