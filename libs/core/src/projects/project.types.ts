export interface ProjectView {
  id: string;
  name: string;
  displayName: string;
  createdAt: string;
}

export interface CreateProjectInput {
  name: string;
  displayName?: string;
}
