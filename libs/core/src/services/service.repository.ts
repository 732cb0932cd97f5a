import { Injectable } from '@nestjs/common';
import { newId } from '@troupe/common';
import { Prisma, PrismaService } from '@troupe/db';
import { TenantScope } from '../auth/principal';

const withVersion = {
  include: { modelVersion: { include: { model: true, files: true } }, project: true },
} as const;
export type ServiceRow = Prisma.InferenceServiceGetPayload<typeof withVersion>;
/** What a listing shows of the model version (fewer and lighter queries than `withVersion`). */
const withVersionName = {
  include: { modelVersion: { select: { version: true, model: { select: { name: true } } } } },
} as const;
export type ServiceListRow = Prisma.InferenceServiceGetPayload<typeof withVersionName>;
/** The service row alone: what status writes and hot paths read (one query, no relations). */
export type ServiceCore = Prisma.InferenceServiceGetPayload<object>;

/** The only code that touches inference_services and service_events. */
@Injectable()
export class ServiceRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: {
    projectId: string;
    name: string;
    servedModelName: string;
    namespace: string;
    modelVersionId: string;
    spec: object;
  }): Promise<ServiceCore> {
    return this.prisma.inferenceService.create({ data: { id: newId(), ...data } });
  }

  list(scope: TenantScope, page: { limit: number; offset: number }): Promise<ServiceListRow[]> {
    return this.prisma.inferenceService.findMany({
      where: scope.kind === 'all' ? {} : { projectId: scope.projectId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: page.limit,
      skip: page.offset,
      ...withVersionName,
    });
  }

  findByName(projectId: string, name: string): Promise<ServiceRow | null> {
    return this.prisma.inferenceService.findUnique({
      where: { projectId_name: { projectId, name } },
      ...withVersion,
    });
  }

  findCoreByName(projectId: string, name: string): Promise<ServiceCore | null> {
    return this.prisma.inferenceService.findUnique({ where: { projectId_name: { projectId, name } } });
  }

  /** For background jobs, after the tenant check of the request that enqueued them. */
  findById(id: string): Promise<ServiceRow | null> {
    return this.prisma.inferenceService.findUnique({ where: { id }, ...withVersion });
  }

  /** The live service whose LWS is `namespace/name` (LWS names are unique per namespace). */
  findLiveInNamespace(namespace: string, name: string): Promise<ServiceRow | null> {
    return this.prisma.inferenceService.findFirst({
      where: { namespace, name, phase: { not: 'DELETED' } },
      ...withVersion,
    });
  }

  /** `findById` without relations (one query). */
  findCoreById(id: string): Promise<ServiceCore | null> {
    return this.prisma.inferenceService.findUnique({ where: { id } });
  }

  /** `findLiveInNamespace` without relations (one query): the watcher's lookup. */
  findCoreLiveInNamespace(namespace: string, name: string): Promise<ServiceCore | null> {
    return this.prisma.inferenceService.findFirst({ where: { namespace, name, phase: { not: 'DELETED' } } });
  }

  /** An update that returns nothing (one statement): status writes from the reconciler and watcher. */
  async updateCore(id: string, data: Prisma.InferenceServiceUpdateManyMutationInput): Promise<void> {
    await this.prisma.inferenceService.updateMany({ where: { id }, data });
  }

  /** Services the watcher and the resync follow: not yet deleted. */
  listLive(): Promise<ServiceRow[]> {
    return this.prisma.inferenceService.findMany({ where: { phase: { not: 'DELETED' } }, ...withVersion });
  }

  update(id: string, data: Prisma.InferenceServiceUpdateInput): Promise<ServiceRow> {
    return this.prisma.inferenceService.update({ where: { id }, data, ...withVersion });
  }

  async remove(id: string): Promise<void> {
    await this.prisma.inferenceService.deleteMany({ where: { id } });
  }

  async addEvent(
    serviceId: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    data?: object,
  ): Promise<void> {
    await this.prisma.serviceEvent.create({
      data: { id: newId(), serviceId, type, reason, message, data: data ?? undefined },
    });
  }

  events(serviceId: string, limit: number) {
    return this.prisma.serviceEvent.findMany({
      where: { serviceId },
      orderBy: { createdAt: 'desc' },
      take: limit,
    });
  }
}
