import { Injectable } from '@nestjs/common';
import { AppException, ErrorCode } from '@troupe/common';
import { narrowScope, Principal, scopeOf } from '@troupe/core';
import { UsageRepository, UsageRow } from './usage.repository';
import {
  USAGE_DEFAULT_RANGE_DAYS,
  USAGE_MAX_RANGE_DAYS,
  UsageGroupBy,
  UsageGroupView,
  UsageQuery,
  UsageTotals,
  UsageView,
} from './usage.types';

const DAY_MS = 86_400_000;

/** Usage totals for the management API, always within the caller's projects. */
@Injectable()
export class UsageService {
  constructor(private readonly usage: UsageRepository) {}

  async summarize(principal: Principal, query: UsageQuery, now = new Date()): Promise<UsageView> {
    const to = query.to ?? now;
    const from = query.from ?? new Date(to.getTime() - USAGE_DEFAULT_RANGE_DAYS * DAY_MS);
    if (from >= to) {
      throw new AppException(ErrorCode.Unprocessable, 'Invalid usage range: from must be before to', {
        issues: [{ field: 'from', message: `must be before to (${to.toISOString()})` }],
      });
    }
    if (to.getTime() - from.getTime() > USAGE_MAX_RANGE_DAYS * DAY_MS) {
      throw new AppException(
        ErrorCode.Unprocessable,
        `Invalid usage range: to must be at most ${USAGE_MAX_RANGE_DAYS} days after from`,
        { issues: [{ field: 'to', message: `must be at most ${USAGE_MAX_RANGE_DAYS} days after from` }] },
      );
    }
    const scope = narrowScope(scopeOf(principal), query.projectId);
    const rows = await this.usage.summarize(scope, from, to, query.groupBy);
    const data = rows.map((r) => this.map(query.groupBy, r));
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy: query.groupBy,
      projectId: scope.kind === 'project' ? scope.projectId : null,
      data,
      totals: data.reduce<UsageTotals>(
        (t, g) => ({
          requests: t.requests + g.requests,
          promptTokens: t.promptTokens + g.promptTokens,
          completionTokens: t.completionTokens + g.completionTokens,
          totalTokens: t.totalTokens + g.totalTokens,
        }),
        { requests: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      ),
    };
  }

  private map(groupBy: UsageGroupBy, r: UsageRow): UsageGroupView {
    const totals = {
      requests: r.requests,
      promptTokens: r.promptTokens,
      completionTokens: r.completionTokens,
      totalTokens: r.promptTokens + r.completionTokens,
    };
    switch (groupBy) {
      case 'service':
        return {
          projectId: r.projectId ?? '',
          serviceId: r.serviceId,
          serviceName: r.serviceName ?? '',
          ...totals,
        };
      case 'key':
        return { projectId: r.projectId ?? '', apiKeyId: r.apiKeyId, keyName: r.keyName, ...totals };
      case 'day':
        return { day: r.day ?? '', ...totals };
    }
  }
}
