import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: `troupe_` + 43 base64url characters (256 random bits). The first 8 random characters
 * with the `troupe_` marker form the prefix: public, shown in listings, and the lookup key. Only the
 * sha256 of the whole key is stored; keys have enough entropy that a fast hash is the right choice
 * (as for GitHub or Stripe tokens): a slow KDF would add latency to every request and no security.
 */
export const KEY_MARKER = 'troupe_';
const RANDOM_BYTES = 32;
const PREFIX_CHARS = 8;
const KEY_RE = /^troupe_([A-Za-z0-9_-]{22,})$/;

export interface GeneratedKey {
  key: string;
  prefix: string;
  hash: string;
}

export function generateApiKey(): GeneratedKey {
  const key = KEY_MARKER + randomBytes(RANDOM_BYTES).toString('base64url');
  return { key, prefix: keyPrefix(key)!, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The lookup prefix of a well-formed key, or null when the token cannot be a Troupe key. */
export function keyPrefix(token: string): string | null {
  const m = KEY_RE.exec(token);
  return m ? KEY_MARKER + m[1].slice(0, PREFIX_CHARS) : null;
}

/** Constant-time comparison of a presented key against a stored hash. */
export function keyMatchesHash(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(token), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Extracts the token of `Authorization: Bearer <token>`; null when absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}
