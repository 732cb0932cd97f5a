import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * A lease in Redis that lets one process at a time act (the autoscaler across worker processes).
 *
 * The key holds `<fence>:<token>`: `token` is random per holder, `fence` a number that grows with every
 * acquisition (kept in a separate counter key). A holder renews with compare-and-extend before the TTL
 * passes; anyone may take the key once it expired. Before each write to the outside world the holder
 * checks it still holds the lease with its fence and enough time left (`check`), and stamps the fence
 * on what it writes, so a write from a holder that lost the lease (paused past its TTL) is detectable
 * and refused where the store can compare fences.
 */
export interface LeaseState {
  held: boolean;
  fence: number | null;
}

export interface LeaseOptions {
  key: string;
  ttlMs: number;
  /** Token of this holder (default: a random UUID). */
  token?: string;
}

/** `<fence>:<token>` stored in the lease key. */
export function encodeLease(fence: number, token: string): string {
  return `${fence}:${token}`;
}

export function decodeLease(value: string | null): { fence: number; token: string } | null {
  if (!value) return null;
  const i = value.indexOf(':');
  if (i < 1) return null;
  const fence = Number(value.slice(0, i));
  if (!Number.isSafeInteger(fence) || fence < 1) return null;
  return { fence, token: value.slice(i + 1) };
}

/**
 * Whether a holder may still write: it holds the lease with this fence and at least `marginMs` of it
 * remain (a write that started with less could land after the lease passed to someone else).
 */
export function mayWrite(remainingMs: number, marginMs: number): boolean {
  return remainingMs > marginMs;
}

/** When to renew next: a third of the TTL, so two renewals may fail before the lease is lost. */
export function renewDelayMs(ttlMs: number): number {
  return Math.max(1, Math.floor(ttlMs / 3));
}

// KEYS[1] lease key, KEYS[2] fence counter; ARGV[1] token, ARGV[2] ttl ms, ARGV[3] fence floor.
// Free: take it with SET NX PX and the next fence (never below the floor). Ours: extend. Else 0.
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, ':', 1, true)
  if sep and string.sub(current, sep + 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(current, 1, sep - 1))
  end
  return 0
end
local fence = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), tonumber(ARGV[3])) + 1
if redis.call('SET', KEYS[1], fence .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('SET', KEYS[2], fence)
  return fence
end
return 0
`;

// KEYS[1] lease key; ARGV[1] expected value, ARGV[2] ttl ms. Extends only the holder's own lease.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

// KEYS[1] lease key; ARGV[1] expected value. Remaining ms when held with this value, else -1.
const CHECK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PTTL', KEYS[1])
end
return -1
`;

// KEYS[1] lease key; ARGV[1] expected value. Deletes only the holder's own lease.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

export class RedisLease {
  readonly token: string;
  private fence: number | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly options: LeaseOptions,
  ) {
    this.token = options.token ?? randomUUID();
  }

  get fenceKey(): string {
    return `${this.options.key}:fence`;
  }

  /** The fence of the lease this process holds, as of the last acquire/renew. */
  state(): LeaseState {
    return { held: this.fence !== null, fence: this.fence };
  }

  /**
   * Takes the lease when free, or extends it when this process holds it. `fenceFloor`: the highest
   * fence seen stamped anywhere (e.g. after Redis lost its data), so fences keep growing.
   * Returns the fence, or null when another process holds it. Redis errors propagate (the caller
   * stops acting: a lease it cannot confirm is a lease it does not hold).
   */
  async acquire(fenceFloor = 0): Promise<number | null> {
    try {
      const fence = Number(
        await this.redis.eval(
          ACQUIRE,
          2,
          this.options.key,
          this.fenceKey,
          this.token,
          String(this.options.ttlMs),
          String(fenceFloor),
        ),
      );
      this.fence = fence > 0 ? fence : null;
      return this.fence;
    } catch (err) {
      this.fence = null;
      throw err;
    }
  }

  /** Extends the lease this process holds; false (and no longer held) when it was lost. */
  async renew(): Promise<boolean> {
    if (this.fence === null) return false;
    try {
      const ok = Number(
        await this.redis.eval(
          RENEW,
          1,
          this.options.key,
          encodeLease(this.fence, this.token),
          String(this.options.ttlMs),
        ),
      );
      if (ok !== 1) this.fence = null;
      return ok === 1;
    } catch (err) {
      this.fence = null;
      throw err;
    }
  }

  /** Milliseconds left on the lease if this process still holds it with `fence`, else -1. */
  async remainingMs(fence: number): Promise<number> {
    const ms = Number(await this.redis.eval(CHECK, 1, this.options.key, encodeLease(fence, this.token)));
    if (ms < 0 && this.fence === fence) this.fence = null;
    return ms;
  }

  /** Gives the lease up (on shutdown) so another process takes over without waiting for the TTL. */
  async release(): Promise<void> {
    const fence = this.fence;
    this.fence = null;
    if (fence === null) return;
    await this.redis.eval(RELEASE, 1, this.options.key, encodeLease(fence, this.token));
  }
}
