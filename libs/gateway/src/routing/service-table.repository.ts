import { Injectable } from '@nestjs/common';
import { engineKindOf } from '@troupe/core';
import { PrismaService } from '@troupe/db';
import { routingStrategyOf, type ProjectRef, type ServiceEntry } from './service-entry';

interface AutoscalingPolicy {
  enabled?: boolean;
  minReplicas?: number;
  min?: number;
}

/**
 * Reads what the gateway keeps in memory: every live service of every project (the gateway serves
 * all tenants; who may call what is decided per request from the key) and the projects' names.
 * Never called on the request path.
 */
@Injectable()
export class ServiceTableRepository {
  constructor(private readonly prisma: PrismaService) {}

  async load(): Promise<{ services: ServiceEntry[]; projects: ProjectRef[] }> {
    const [rows, projects] = await Promise.all([
      this.prisma.inferenceService.findMany({
        where: { deletedAt: null, phase: { notIn: ['DELETING', 'DELETED'] } },
        select: {
          id: true,
          projectId: true,
          name: true,
          servedModelName: true,
          namespace: true,
          spec: true,
          autoscaling: true,
          createdAt: true,
          project: { select: { name: true } },
        },
        orderBy: { createdAt: 'asc' },
      }),
      this.prisma.project.findMany({ select: { id: true, name: true } }),
    ]);
    return {
      services: rows.map((r) => {
        const policy = (r.autoscaling ?? null) as AutoscalingPolicy | null;
        const specMin = (r.spec as { replicas?: { min?: number } } | null)?.replicas?.min;
        const min = policy?.minReplicas ?? policy?.min ?? specMin;
        return {
          id: r.id,
          projectId: r.projectId,
          projectName: r.project.name,
          name: r.name,
          servedModelName: r.servedModelName,
          namespace: r.namespace,
          lwsName: r.name,
          engine: engineKindOf(r.spec),
          routing: routingStrategyOf(r.spec),
          mayScaleToZero: policy?.enabled === true && min === 0,
          createdAt: r.createdAt,
        };
      }),
      projects,
    };
  }
}
