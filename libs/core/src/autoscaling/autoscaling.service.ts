import { Injectable } from '@nestjs/common';
import { AutoscalingPolicy, resolvePolicy } from '@troupe/autoscaler';
import { AppException, ErrorCode, FieldIssue } from '@troupe/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { Principal } from '../auth/principal';
import { replicasOwner } from '../services/replicas';
import { ServiceRepository } from '../services/service.repository';
import { CreateServiceInput, ServiceService } from '../services/service.service';
import { ServiceView } from '../services/service.types';
import { AutoscalingRepository, ScalingRow } from './autoscaling.repository';
import { AutoscalerStateRecord, ScalingView } from './autoscaling.types';

export type ServiceWithScaling = ServiceView & { scaling: ScalingView };

const unprocessable = (what: string, issues: FieldIssue[]) =>
  new AppException(
    ErrorCode.Unprocessable,
    `Invalid ${what}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    { issues },
  );

/**
 * Who sets a service's number of groups: its spec, an admin's pin (`POST …/scale`), or the autoscaler
 * (`PUT …/autoscaling`). Every change is stored, recorded as an event, announced to the gateways and
 * followed by a reconcile, which hands `spec.replicas` to its new owner (see `replicasOwner`).
 */
@Injectable()
export class AutoscalingService {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly services: ServiceService,
    private readonly serviceRows: ServiceRepository,
    private readonly scaling: AutoscalingRepository,
  ) {}

  /** The service as GET shows it, with `scaling`. */
  async get(principal: Principal, name: string, projectId?: string): Promise<ServiceWithScaling> {
    const view = await this.services.get(principal, name, projectId);
    return this.withScaling(view, await this.scaling.findById(view.id));
  }

  /**
   * Validates a (partial) policy and merges it over the stored one (or the defaults), stores it and
   * clears an admin pin: autoscaling resumes. `{enabled: false}` hands the groups back to the spec.
   */
  async setPolicy(
    principal: Principal,
    name: string,
    input: unknown,
    projectId?: string,
  ): Promise<ServiceWithScaling> {
    const view = await this.services.get(principal, name, projectId);
    if (view.deletedAt) throw new AppException(ErrorCode.Conflict, `Service "${name}" is being deleted`);
    const row = await this.require(view.id, name);
    const previous = isPolicy(row.autoscaling) ? row.autoscaling : undefined;
    const resolved = resolvePolicy(input, previous);
    if ('issues' in resolved) throw unprocessable('autoscaling policy', resolved.issues);
    const policy = resolved.policy;
    const updated = await this.scaling.setPolicy(view.id, policy);
    const pinNote = row.pinnedReplicas !== null ? `; admin pin at ${row.pinnedReplicas} groups cleared` : '';
    await this.serviceRows.addEvent(
      view.id,
      'Normal',
      policy.enabled ? 'AutoscalingEnabled' : 'AutoscalingDisabled',
      policy.enabled
        ? `autoscaling on: ${policy.minReplicas}..${policy.maxReplicas} groups, ${policy.metric} target ${policy.target} per group${pinNote} (by ${principal.keyName})`
        : `autoscaling off: the spec sets the groups (${view.spec.replicas.initial})${pinNote} (by ${principal.keyName})`,
      { policy, previousPinnedReplicas: row.pinnedReplicas },
    );
    await this.afterChange(view);
    return this.withScaling(view, updated);
  }

  /** Pins the service at `replicas` groups and pauses autoscaling until the policy is set again. */
  async scale(
    principal: Principal,
    name: string,
    replicas: number,
    projectId?: string,
  ): Promise<ServiceWithScaling> {
    const max = this.config.autoscaler.maxManualReplicas;
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > max) {
      throw unprocessable('scale request', [
        { field: 'replicas', message: `must be a whole number from 0 to ${max} (got ${replicas})` },
      ]);
    }
    const view = await this.services.get(principal, name, projectId);
    if (view.deletedAt) throw new AppException(ErrorCode.Conflict, `Service "${name}" is being deleted`);
    const row = await this.require(view.id, name);
    const updated = await this.scaling.setPin(view.id, replicas);
    const paused =
      scalingView(row).owner === 'autoscaler' ? '; autoscaling paused until PUT …/autoscaling' : '';
    await this.serviceRows.addEvent(
      view.id,
      'Normal',
      'ScaledManually',
      `pinned at ${replicas} group(s) by ${principal.keyName}${paused}`,
      { replicas, previousPinnedReplicas: row.pinnedReplicas },
    );
    await this.afterChange(view);
    return this.withScaling(view, updated);
  }

  /**
   * POST /services with an `autoscaling` policy: the policy is validated before anything is stored
   * (422 naming `autoscaling.<field>`), then the service is created and the policy set.
   */
  async createWithPolicy(
    principal: Principal,
    input: CreateServiceInput,
    autoscaling: unknown,
    dryRun: boolean,
  ): ReturnType<ServiceService['create']> {
    const resolved = resolvePolicy(autoscaling);
    if ('issues' in resolved) {
      throw unprocessable(
        'service',
        resolved.issues.map((i) => ({ ...i, field: `autoscaling.${i.field}` })),
      );
    }
    const created = await this.services.create(principal, input, dryRun);
    if (!created.service) return created;
    const updated = await this.scaling.setPolicy(created.service.id, resolved.policy);
    await this.serviceRows.addEvent(
      created.service.id,
      'Normal',
      resolved.policy.enabled ? 'AutoscalingEnabled' : 'AutoscalingDisabled',
      `autoscaling ${resolved.policy.enabled ? 'on' : 'off'}: ${resolved.policy.minReplicas}..${resolved.policy.maxReplicas} groups, ${resolved.policy.metric} target ${resolved.policy.target} per group`,
      { policy: resolved.policy },
    );
    await this.afterChange(created.service);
    return { ...created, service: this.withScaling(created.service, updated) };
  }

  private async afterChange(view: ServiceView): Promise<void> {
    await this.services.enqueueReconcile(view.id);
    await this.services.announceChange(view.id, view.projectId);
  }

  private async require(id: string, name: string): Promise<ScalingRow> {
    const row = await this.scaling.findById(id);
    if (!row) throw AppException.notFound(`Service "${name}"`);
    return row;
  }

  private withScaling(view: ServiceView, row: ScalingRow | null): ServiceWithScaling {
    return { ...view, scaling: scalingView(row) };
  }
}

export function scalingView(
  row: Pick<ScalingRow, 'autoscaling' | 'pinnedReplicas' | 'autoscalerState'> | null,
): ScalingView {
  if (!row) return { owner: 'spec', pinnedReplicas: null, policy: null, lastDecision: null };
  const policy = isPolicy(row.autoscaling) ? row.autoscaling : null;
  const state = row.autoscalerState as unknown as AutoscalerStateRecord | null;
  return {
    owner: replicasOwner({ autoscaling: policy, pinnedReplicas: row.pinnedReplicas }),
    pinnedReplicas: row.pinnedReplicas,
    policy,
    lastDecision:
      state && typeof state === 'object' && typeof state.desired === 'number' && state.reason
        ? {
            desired: state.desired,
            current: state.current,
            reason: state.reason,
            message: state.message,
            panic: state.panic,
            inputs: state.inputs,
            at: state.at,
          }
        : null,
  };
}

function isPolicy(v: unknown): v is AutoscalingPolicy {
  return typeof v === 'object' && v !== null && typeof (v as { enabled?: unknown }).enabled === 'boolean';
}
