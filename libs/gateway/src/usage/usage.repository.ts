import { Injectable } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { TenantScope } from '@troupe/core';
import { Pool } from 'pg';
import { isPrismaError, Prisma, PrismaErrorCode, PrismaService } from '@troupe/db';
import { UsageEntry, UsageGroupBy } from './usage.types';

export interface UsageRow {
  projectId: string | null;
  serviceId: string | null;
  serviceName: string | null;
  apiKeyId: string | null;
  keyName: string | null;
  day: string | null;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

interface RawRow {
  project_id: string | null;
  service_id: string | null;
  service_name: string | null;
  api_key_id: string | null;
  key_name: string | null;
  day: string | null;
  requests: bigint;
  prompt_tokens: bigint | null;
  completion_tokens: bigint | null;
}

/** What each groupBy selects and groups on; fixed SQL fragments, never built from input. */
const GROUPS: Record<UsageGroupBy, { select: Prisma.Sql; groupBy: Prisma.Sql; orderBy: Prisma.Sql }> = {
  service: {
    select: Prisma.sql`u.project_id::text AS project_id, u.service_id::text AS service_id, u.service_name,
      NULL::text AS api_key_id, NULL::text AS key_name, NULL::text AS day`,
    groupBy: Prisma.sql`u.project_id, u.service_id, u.service_name`,
    orderBy: Prisma.sql`u.service_name, u.project_id, u.service_id`,
  },
  key: {
    select: Prisma.sql`u.project_id::text AS project_id, NULL::text AS service_id, NULL::text AS service_name,
      u.api_key_id::text AS api_key_id, MAX(k.name) AS key_name, NULL::text AS day`,
    groupBy: Prisma.sql`u.project_id, u.api_key_id`,
    orderBy: Prisma.sql`key_name NULLS LAST, u.project_id, u.api_key_id`,
  },
  day: {
    select: Prisma.sql`NULL::text AS project_id, NULL::text AS service_id, NULL::text AS service_name,
      NULL::text AS api_key_id, NULL::text AS key_name,
      to_char(date_trunc('day', u.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day`,
    groupBy: Prisma.sql`date_trunc('day', u.created_at AT TIME ZONE 'UTC')`,
    orderBy: Prisma.sql`date_trunc('day', u.created_at AT TIME ZONE 'UTC')`,
  },
};

/** The only code that touches usage_records. */
@Injectable()
export class UsageRepository {
  /**
   * A small pool of its own for the batch inserts: the statement goes straight to `pg` (Prisma's
   * query layer cost several percent of the gateway's CPU for these batches at 10k requests/s).
   * Made on first use, closed by the recorder after its last flush.
   */
  private pool?: Pool;

  constructor(
    private readonly prisma: PrismaService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Closes the insert pool (opened again if a late batch comes). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end().catch(() => undefined);
  }

  private insertPool(): Pool {
    if (!this.pool) {
      this.pool = new Pool({
        connectionString: this.config.database.url,
        max: 2,
        connectionTimeoutMillis: 5_000,
        idleTimeoutMillis: 30_000,
      });
      // An idle connection dropped by the server must not crash the process: the next batch reconnects.
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  /**
   * Writes a batch in one statement. When a row names a project or service deleted since the
   * request (a foreign key fails), the batch is repaired — the service reference cleared (its name is
   * kept), rows of deleted projects dropped — and written again. Returns how many rows were dropped.
   */
  async insertBatch(entries: UsageEntry[]): Promise<{ written: number; dropped: number }> {
    try {
      return { written: await this.insertRows(entries), dropped: 0 };
    } catch (err) {
      if (!isForeignKeyViolation(err)) throw err;
    }
    const projectIds = [...new Set(entries.map((e) => e.projectId))];
    const serviceIds = [...new Set(entries.flatMap((e) => (e.serviceId ? [e.serviceId] : [])))];
    const [projects, services] = await Promise.all([
      this.prisma.project.findMany({ where: { id: { in: projectIds } }, select: { id: true } }),
      this.prisma.inferenceService.findMany({ where: { id: { in: serviceIds } }, select: { id: true } }),
    ]);
    const liveProjects = new Set(projects.map((p) => p.id));
    const liveServices = new Set(services.map((s) => s.id));
    const repaired = entries
      .filter((e) => liveProjects.has(e.projectId))
      .map((e) => (e.serviceId && !liveServices.has(e.serviceId) ? { ...e, serviceId: null } : e));
    const written = repaired.length ? await this.insertRows(repaired) : 0;
    return { written, dropped: entries.length - repaired.length };
  }

  /**
   * One INSERT … SELECT FROM unnest(column arrays): ten parameters whatever the batch size. Prisma's
   * `createMany` builds and compiles a statement with a parameter per value, which at gateway rates
   * cost the gateway process more CPU than proxying the requests themselves.
   */
  private async insertRows(rows: UsageEntry[]): Promise<number> {
    const col = <T>(f: (e: UsageEntry) => T): T[] => rows.map(f);
    const res = await this.insertPool().query(
      `INSERT INTO usage_records (project_id, service_id, service_name, api_key_id, endpoint, status,
         prompt_tokens, completion_tokens, duration_ms, created_at)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::uuid[], $5::varchar[],
         $6::smallint[], $7::int[], $8::int[], $9::int[], $10::timestamptz[])`,
      [
        col((e) => e.projectId),
        col((e) => e.serviceId),
        col((e) => e.serviceName),
        col((e) => e.apiKeyId),
        col((e) => e.endpoint),
        col((e) => e.status),
        col((e) => e.promptTokens),
        col((e) => e.completionTokens),
        col((e) => e.durationMs),
        col((e) => e.createdAt.toISOString()),
      ],
    );
    return res.rowCount ?? 0;
  }

  /** Totals per group over [from, to), within the caller's scope. */
  async summarize(scope: TenantScope, from: Date, to: Date, groupBy: UsageGroupBy): Promise<UsageRow[]> {
    const g = GROUPS[groupBy];
    const tenant =
      scope.kind === 'all' ? Prisma.empty : Prisma.sql`AND u.project_id = ${scope.projectId}::uuid`;
    const join = groupBy === 'key' ? Prisma.sql`LEFT JOIN api_keys k ON k.id = u.api_key_id` : Prisma.empty;
    const rows = await this.prisma.$queryRaw<RawRow[]>`
      SELECT ${g.select},
        COUNT(*) AS requests,
        SUM(u.prompt_tokens) AS prompt_tokens,
        SUM(u.completion_tokens) AS completion_tokens
      FROM usage_records u ${join}
      WHERE u.created_at >= ${from}::timestamptz AND u.created_at < ${to}::timestamptz ${tenant}
      GROUP BY ${g.groupBy}
      ORDER BY ${g.orderBy}`;
    return rows.map((r) => ({
      projectId: r.project_id,
      serviceId: r.service_id,
      serviceName: r.service_name,
      apiKeyId: r.api_key_id,
      keyName: r.key_name,
      day: r.day,
      requests: Number(r.requests),
      promptTokens: Number(r.prompt_tokens ?? 0),
      completionTokens: Number(r.completion_tokens ?? 0),
    }));
  }
}

/** A foreign-key violation (a project or service deleted since), from a raw statement or the client. */
function isForeignKeyViolation(err: unknown): boolean {
  if (isPrismaError(err, PrismaErrorCode.ForeignKeyConstraintFailed)) return true;
  const e = err as {
    code?: unknown;
    meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown; kind?: unknown } } };
    message?: unknown;
  };
  const cause = e.meta?.driverAdapterError?.cause;
  return (
    e.code === '23503' ||
    e.meta?.code === '23503' ||
    cause?.originalCode === '23503' ||
    cause?.kind === 'ForeignKeyConstraintViolation' ||
    (typeof e.message === 'string' && /23503|foreign key constraint/i.test(e.message))
  );
}
