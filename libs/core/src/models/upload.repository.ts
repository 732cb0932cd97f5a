import { Injectable } from '@nestjs/common';
import { newId } from '@troupe/common';
import { Prisma, PrismaService } from '@troupe/db';
import { TenantScope } from '../auth/principal';

const withParts = {
  include: { parts: { orderBy: { partNumber: 'asc' as const } }, version: { include: { model: true } } },
} as const;
export type SessionRow = Prisma.UploadSessionGetPayload<typeof withParts>;

/** The only code that touches upload_sessions and upload_parts. */
@Injectable()
export class UploadRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: {
    projectId: string;
    versionId: string;
    path: string;
    objectKey: string;
    s3UploadId: string;
    size: number;
    partSize: number;
    partCount: number;
    expectedSha256: string | null;
    expiresAt: Date;
  }): Promise<SessionRow> {
    return this.prisma.uploadSession.create({
      data: { id: newId(), ...data, size: BigInt(data.size) },
      ...withParts,
    });
  }

  find(scope: TenantScope, id: string): Promise<SessionRow | null> {
    return this.prisma.uploadSession.findFirst({
      where: { id, ...(scope.kind === 'all' ? {} : { projectId: scope.projectId }) },
      ...withParts,
    });
  }

  /** Where the whole-file hash chain stands: the longest run of parts 1..k with a saved state. */
  async hashChainStart(sessionId: string): Promise<{ hashedThrough: number; state: Uint8Array | null }> {
    const parts = await this.prisma.uploadPart.findMany({
      where: { sessionId },
      orderBy: { partNumber: 'asc' },
      select: { partNumber: true, hashState: true },
    });
    let k = 0;
    while (k < parts.length && parts[k].partNumber === k + 1 && parts[k].hashState) k++;
    return { hashedThrough: k, state: k > 0 ? parts[k - 1].hashState : null };
  }

  /** Saves whole-file hash states (part number -> state after that part). */
  async saveHashStates(sessionId: string, states: Map<number, Uint8Array>): Promise<void> {
    for (const [partNumber, state] of states) {
      await this.prisma.uploadPart.updateMany({
        where: { sessionId, partNumber },
        data: { hashState: Buffer.from(state) },
      });
    }
  }

  /**
   * Records a part. When a retried part's bytes differ from what was hashed before, the saved states of
   * later parts were computed over other bytes: they are dropped, and completion re-reads those parts.
   */
  async savePart(
    sessionId: string,
    part: { partNumber: number; size: number; etag: string; sha256: string; hashState: Uint8Array | null },
  ): Promise<{ changedBytes: boolean }> {
    return this.prisma.$transaction(async (tx) => {
      const previous = await tx.uploadPart.findUnique({
        where: { sessionId_partNumber: { sessionId, partNumber: part.partNumber } },
        select: { sha256: true },
      });
      const hashState = part.hashState ? Buffer.from(part.hashState) : null;
      await tx.uploadPart.upsert({
        where: { sessionId_partNumber: { sessionId, partNumber: part.partNumber } },
        create: { sessionId, ...part, hashState },
        update: { size: part.size, etag: part.etag, sha256: part.sha256, hashState, createdAt: new Date() },
      });
      const changedBytes = previous !== null && previous.sha256 !== part.sha256;
      if (changedBytes) {
        await tx.uploadPart.updateMany({
          where: { sessionId, partNumber: { gte: part.partNumber } },
          data: { hashState: null },
        });
      }
      return { changedBytes };
    });
  }

  async close(id: string, from: 'ACTIVE', to: 'COMPLETED' | 'ABORTED'): Promise<boolean> {
    const { count } = await this.prisma.uploadSession.updateMany({
      where: { id, state: from },
      data: { state: to, completedAt: new Date() },
    });
    return count === 1;
  }

  countActive(versionId: string): Promise<number> {
    return this.prisma.uploadSession.count({ where: { versionId, state: 'ACTIVE' } });
  }

  listActiveForVersion(versionId: string): Promise<SessionRow[]> {
    return this.prisma.uploadSession.findMany({ where: { versionId, state: 'ACTIVE' }, ...withParts });
  }

  listExpired(now: Date, limit: number): Promise<SessionRow[]> {
    return this.prisma.uploadSession.findMany({
      where: { state: 'ACTIVE', expiresAt: { lt: now } },
      orderBy: { expiresAt: 'asc' },
      take: limit,
      ...withParts,
    });
  }

  /** Bytes promised to open sessions of a version (other than `exceptPath`), for the version size limit. */
  async reservedBytes(versionId: string, exceptPath?: string): Promise<number> {
    const agg = await this.prisma.uploadSession.aggregate({
      where: { versionId, state: 'ACTIVE', ...(exceptPath ? { NOT: { path: exceptPath } } : {}) },
      _sum: { size: true },
    });
    return Number(agg._sum.size ?? 0n);
  }
}
