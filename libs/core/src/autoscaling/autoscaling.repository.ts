import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '@troupe/db';

const scalingSelect = {
  id: true,
  projectId: true,
  name: true,
  namespace: true,
  phase: true,
  deletedAt: true,
  spec: true,
  autoscaling: true,
  pinnedReplicas: true,
  autoscalerState: true,
} as const;
export type ScalingRow = Prisma.InferenceServiceGetPayload<{ select: typeof scalingSelect }>;

/**
 * The autoscaling columns of inference_services (policy, admin pin, autoscaler state). Rows are
 * found by id: the API resolves the service within the caller's project first (ServiceService), the
 * worker acts on every project's services after the tenant check of the request that set the policy.
 */
@Injectable()
export class AutoscalingRepository {
  constructor(private readonly prisma: PrismaService) {}

  findById(id: string): Promise<ScalingRow | null> {
    return this.prisma.inferenceService.findUnique({ where: { id }, select: scalingSelect });
  }

  /** Live services whose replicas the autoscaler owns: policy enabled, no admin pin, not being deleted. */
  listAutoscaled(): Promise<ScalingRow[]> {
    return this.prisma.inferenceService.findMany({
      where: {
        phase: { not: 'DELETED' },
        deletedAt: null,
        pinnedReplicas: null,
        autoscaling: { path: ['enabled'], equals: true },
      },
      select: scalingSelect,
      orderBy: { id: 'asc' },
    });
  }

  /** Stores a resolved policy and clears the admin pin (a policy change resumes autoscaling). */
  setPolicy(id: string, policy: object): Promise<ScalingRow> {
    return this.prisma.inferenceService.update({
      where: { id },
      data: { autoscaling: policy, pinnedReplicas: null },
      select: scalingSelect,
    });
  }

  setPin(id: string, replicas: number): Promise<ScalingRow> {
    return this.prisma.inferenceService.update({
      where: { id },
      data: { pinnedReplicas: replicas },
      select: scalingSelect,
    });
  }

  /**
   * Writes the autoscaler's state only while the autoscaler still owns the service's replicas (policy
   * enabled, no pin, not deleted) and no newer lease holder wrote before (stored fence <= `fence`).
   * Returns false when refused: the caller must not actuate.
   */
  async saveState(id: string, state: object, fence: number): Promise<boolean> {
    const n = await this.prisma.$executeRaw`
      UPDATE inference_services
         SET autoscaler_state = ${JSON.stringify(state)}::jsonb, updated_at = now()
       WHERE id = ${id}::uuid
         AND deleted_at IS NULL
         AND pinned_replicas IS NULL
         AND (autoscaling->>'enabled') = 'true'
         AND COALESCE((autoscaler_state->>'fence')::bigint, 0) <= ${fence}`;
    return n === 1;
  }

  /** The highest fence stamped on any service (seeds the lease's fence counter if Redis lost it). */
  async maxFence(): Promise<number> {
    const rows = await this.prisma.$queryRaw<{ max: bigint | number | null }[]>`
      SELECT max((autoscaler_state->>'fence')::bigint) AS max FROM inference_services`;
    return Number(rows[0]?.max ?? 0);
  }
}
