import { ProjectLimits } from './project-limits';

export interface ProjectView {
  id: string;
  name: string;
  displayName: string;
  createdAt: string;
  /** Gateway limits per API key; a null field means the platform default, 0 means unlimited. */
  limits: ProjectLimits;
}

export interface CreateProjectInput {
  name: string;
  displayName?: string;
}
