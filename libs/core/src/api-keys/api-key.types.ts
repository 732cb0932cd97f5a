import { Role } from '../auth/principal';

export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  projectId: string | null;
  /** Public start of the key, to recognise it; the key itself is shown only once, at creation. */
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface CreatedApiKey extends ApiKeyView {
  /** The secret. Shown in this response only; Troupe stores a hash. */
  key: string;
}

export interface CreateApiKeyInput {
  name: string;
  role: Role;
  projectId?: string;
  expiresAt?: Date;
}

/** Redis channel on which revocations are announced, so every process drops the key from its cache. */
export const API_KEY_REVOKED_CHANNEL = 'troupe:api-keys:revoked';
