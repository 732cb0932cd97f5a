// The gateway's in-memory picture of the services it may route to, and how a request names one.

import type { EngineKind } from '@troupe/lws';
import { GatewayError } from '../proxy/gateway-error';

/** One live inference service, as the gateway needs it (loaded from PostgreSQL, kept in memory). */
export interface ServiceEntry {
  id: string;
  projectId: string;
  projectName: string;
  name: string;
  servedModelName: string;
  namespace: string;
  /** The LeaderWorkerSet of the service (its name is the service name). */
  lwsName: string;
  /** Which engine its leaders run: the names of their load metrics. */
  engine: EngineKind;
  /** `spec.routing.strategy`, when the spec names one (else the gateway's default). */
  routing?: RoutingStrategy;
  /** Autoscaling may take the service to zero groups (policy with a minimum of 0). */
  mayScaleToZero: boolean;
  createdAt: Date;
}

/** How the gateway picks a ready group of a service. */
export type RoutingStrategy = 'cache-aware' | 'least-outstanding' | 'affinity';

const STRATEGIES: readonly string[] = ['cache-aware', 'least-outstanding', 'affinity'];

/** The routing strategy a stored spec (any JSON) names, if a known one. */
export function routingStrategyOf(spec: unknown): RoutingStrategy | undefined {
  const s = (spec as { routing?: { strategy?: unknown } } | null)?.routing?.strategy;
  return typeof s === 'string' && STRATEGIES.includes(s) ? (s as RoutingStrategy) : undefined;
}

export interface ProjectRef {
  id: string;
  name: string;
}

/** Who calls: the parts of a Principal the routing decision needs. */
export interface CallerScope {
  role: 'admin' | 'member' | 'inference';
  projectId: string | null;
}

export interface ServiceIndex {
  /** Services by served model name (the OpenAI `model`), every project. */
  byModel: ReadonlyMap<string, readonly ServiceEntry[]>;
  /** Projects by id and by name. */
  projects: ReadonlyMap<string, ProjectRef>;
}

export function buildIndex(services: readonly ServiceEntry[], projects: readonly ProjectRef[]): ServiceIndex {
  const byModel = new Map<string, ServiceEntry[]>();
  for (const s of services) {
    const list = byModel.get(s.servedModelName);
    if (list) list.push(s);
    else byModel.set(s.servedModelName, [s]);
  }
  const byKey = new Map<string, ProjectRef>();
  for (const p of projects) {
    byKey.set(p.id, p);
    byKey.set(p.name, p);
  }
  return { byModel, projects: byKey };
}

/** Header with which a caller names the project of the model (needed by admin keys when ambiguous). */
export const PROJECT_HEADER = 'x-troupe-project';

/**
 * The service a request's `model` names for this caller. Members and inference keys reach their own
 * project's services only; another project's model answers 404 exactly as a missing one (no leak),
 * while naming another project in `x-troupe-project` is refused with 403. Admin keys reach every
 * project; when the same model name is served in several projects, they name one (id or name) in
 * `x-troupe-project`, else 400.
 */
export function resolveService(
  index: ServiceIndex,
  caller: CallerScope,
  model: string,
  projectHint?: string,
): ServiceEntry {
  let projectId: string | null = caller.role === 'admin' ? null : caller.projectId;
  if (projectHint !== undefined && projectHint !== '') {
    const named = index.projects.get(projectHint);
    if (caller.role === 'admin') {
      if (!named) throw GatewayError.modelNotFound(model, ` No project \`${projectHint}\`.`);
      projectId = named.id;
    } else if (!named || named.id !== caller.projectId) {
      throw GatewayError.forbidden(
        `This API key belongs to another project and may not call the services of project \`${projectHint}\`.`,
      );
    }
  }
  const all = index.byModel.get(model) ?? [];
  const candidates = projectId === null ? all : all.filter((s) => s.projectId === projectId);
  if (candidates.length === 0) throw GatewayError.modelNotFound(model);
  if (candidates.length > 1) {
    const names = candidates.map((s) => s.projectName).sort();
    throw GatewayError.badRequest(
      'ambiguous_model',
      `The model \`${model}\` is served in several projects (${names.join(', ')}): name one with the ${PROJECT_HEADER} header.`,
      'model',
    );
  }
  return candidates[0];
}

/** Services a caller may list in /v1/models. */
export function visibleServices(
  services: readonly ServiceEntry[],
  caller: CallerScope,
  projectHint?: string,
  projects?: ServiceIndex['projects'],
): ServiceEntry[] {
  let projectId = caller.role === 'admin' ? null : caller.projectId;
  if (caller.role === 'admin' && projectHint) projectId = projects?.get(projectHint)?.id ?? '';
  return services.filter((s) => projectId === null || s.projectId === projectId);
}
