import { ApiKeyRole } from '@troupe/db';

export type Role = `${ApiKeyRole}`;
export const ROLES_ALL: readonly Role[] = ['admin', 'member', 'inference'];

/** Who is calling: resolved from the API key on every request. */
export interface Principal {
  /** null for the bootstrap admin key from TROUPE_ADMIN_KEY, which has no row. */
  keyId: string | null;
  keyName: string;
  role: Role;
  /** null only for admin keys: they act on every project. */
  projectId: string | null;
}

/**
 * Which tenant rows a caller may see. Every repository method that reads tenant data takes one, so a
 * missing filter is a type error rather than a leak.
 */
export type TenantScope = { kind: 'all' } | { kind: 'project'; projectId: string };

export function scopeOf(principal: Principal): TenantScope {
  if (principal.role === 'admin') return { kind: 'all' };
  if (!principal.projectId) throw new Error(`non-admin key ${principal.keyId} has no project`);
  return { kind: 'project', projectId: principal.projectId };
}

/** Narrows a scope further to one project, if the caller asked for one. */
export function narrowScope(scope: TenantScope, projectId: string | undefined): TenantScope {
  if (!projectId) return scope;
  if (scope.kind === 'all') return { kind: 'project', projectId };
  // A member asking for another project sees nothing, exactly as if it did not exist.
  return scope.projectId === projectId ? scope : { kind: 'project', projectId: NO_PROJECT };
}

export function canSeeProject(scope: TenantScope, projectId: string): boolean {
  return scope.kind === 'all' || scope.projectId === projectId;
}

/**
 * The project a request acts on. Members and inference keys act on their own project (naming another
 * one finds nothing, as if it did not exist); admin keys act on every project and must name one.
 */
export function projectFor(principal: Principal, requested: string | undefined): string | null {
  if (principal.role === 'admin') return requested ?? null;
  if (requested && requested !== principal.projectId) return NO_PROJECT;
  return principal.projectId;
}

/** A project id that matches no row: what a member gets when naming another project. */
export const NO_PROJECT = '00000000-0000-0000-0000-000000000000';
