import type Redis from 'ioredis';
import { GATEWAY_LOAD_KEY_PREFIX, GATEWAY_PROCESSES_KEY, GATEWAY_PROCESS_STALE_MS } from './keys';

export interface GatewayLoad {
  inflight: number;
  held: number;
}

/**
 * Sums the per-process load hashes the gateways write (`service id -> {"inflight":n,"held":n}`) into
 * one load per service. Pure. Malformed fields are skipped: a gateway writing garbage must not make a
 * service look loaded (or idle) beyond what the other gateways report.
 */
export function sumGatewayLoads(hashes: (Record<string, string> | null)[]): Map<string, GatewayLoad> {
  const out = new Map<string, GatewayLoad>();
  for (const hash of hashes) {
    if (!hash) continue;
    for (const [serviceId, raw] of Object.entries(hash)) {
      const load = parseLoad(raw);
      if (!load) continue;
      const sum = out.get(serviceId) ?? { inflight: 0, held: 0 };
      sum.inflight += load.inflight;
      sum.held += load.held;
      out.set(serviceId, sum);
    }
  }
  return out;
}

function parseLoad(raw: string): GatewayLoad | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const { inflight, held } = v as Record<string, unknown>;
  const count = (n: unknown) =>
    typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : null;
  const i = count(inflight ?? 0);
  const h = count(held ?? 0);
  return i === null || h === null ? null : { inflight: i, held: h };
}

/**
 * Reads every live gateway process's load hash in two round trips. Returns null when Redis cannot be
 * read: the decision then sees the gateway's counts as missing (-1), not as zero.
 */
export async function readGatewayLoads(
  redis: Redis,
  nowMs: number,
): Promise<Map<string, GatewayLoad> | null> {
  try {
    const ids = await redis.zrangebyscore(GATEWAY_PROCESSES_KEY, nowMs - GATEWAY_PROCESS_STALE_MS, '+inf');
    if (ids.length === 0) return new Map();
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(`${GATEWAY_LOAD_KEY_PREFIX}${id}`);
    const results = (await pipeline.exec()) ?? [];
    if (results.some(([err]) => err)) return null;
    return sumGatewayLoads(results.map(([, v]) => (v as Record<string, string> | null) ?? null));
  } catch {
    return null;
  }
}
