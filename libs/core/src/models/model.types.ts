export type VersionState = 'UPLOADING' | 'VERIFYING' | 'READY' | 'FAILED';

export interface ModelView {
  id: string;
  projectId: string;
  name: string;
  description: string | null;
  createdAt: string;
  versions?: VersionSummary[];
}

export interface VersionSummary {
  id: string;
  version: string;
  state: VersionState;
  createdAt: string;
}

export interface FileView {
  path: string;
  size: number;
  sha256: string;
}

export interface VersionView extends VersionSummary {
  modelId: string;
  model: string;
  projectId: string;
  failureReason: string | null;
  metadata: unknown;
  files: FileView[];
  totalBytes: number;
  verifiedAt: string | null;
  /** Where the weights live: `<project>/<model>/<version>/` in the configured bucket. */
  storagePrefix: string;
}

export interface UploadSessionView {
  uploadId: string;
  path: string;
  size: number;
  partSize: number;
  partCount: number;
  state: 'ACTIVE' | 'COMPLETED' | 'ABORTED';
  parts: { partNumber: number; size: number; etag: string; sha256: string }[];
  expiresAt: string;
  createdAt: string;
}

/** The model a request names: by name in the caller's project (admins name the project). */
export interface ModelRef {
  projectId: string;
  name: string;
}
