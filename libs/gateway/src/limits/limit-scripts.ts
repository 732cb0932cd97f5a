import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * The Redis side of the gateway limits: the arithmetic of `limit-math.ts`, run atomically inside
 * Redis so that every gateway process counts against the same buckets. Time comes from the Redis
 * server (`TIME`), so gateway hosts with skewed clocks still agree; tests pass `now` explicitly.
 *
 * Keys of one API key share a hash tag, so they live on one Redis Cluster slot:
 *   troupe:limits:{<subject>}:rpm      hash {l: level, t: ms}   requests bucket
 *   troupe:limits:{<subject>}:tpm      hash {l: level, t: ms}   tokens bucket
 *   troupe:limits:{<subject>}:streams  sorted set slot -> lease expiry (ms)
 */
export function limitKeys(subject: string): { rpm: string; tpm: string; streams: string } {
  const base = `troupe:limits:{${subject}}`;
  return { rpm: `${base}:rpm`, tpm: `${base}:tpm`, streams: `${base}:streams` };
}

const COMMON = `
local function now_ms(arg)
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function drain(key, now, per_minute)
  local v = redis.call('HMGET', key, 'l', 't')
  if not v[1] or not v[2] then return 0 end
  local elapsed = now - tonumber(v[2])
  if elapsed < 0 then elapsed = 0 end
  local level = tonumber(v[1]) - elapsed * per_minute / 60000
  if level < 0 then return 0 end
  return level
end
local function store(key, level, now, per_minute)
  redis.call('HSET', key, 'l', string.format('%.6f', level), 't', string.format('%.3f', now))
  redis.call('PEXPIRE', key, math.ceil(level * 60000 / per_minute) + 1000)
end
`;

/**
 * KEYS: rpm, tpm, streams. ARGV: now ('' = Redis TIME), requestsPerMinute, tokensPerMinute,
 * concurrentStreams (0 = unlimited), stream (1/0), slot id, lease ms.
 * Returns {1, now} when admitted (request counted, slot taken), else {0, reason (1 requests,
 * 2 tokens, 3 streams), retry after ms}: the refusal that frees up last, as `decide()` does.
 */
const ADMIT = `${COMMON}
local now = now_ms(ARGV[1])
local rpm, tpm, max_streams = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local stream, slot, lease = ARGV[5] == '1', ARGV[6], tonumber(ARGV[7])
local reason, retry = 0, -1
local function consider(r, ms)
  if ms > retry then reason, retry = r, ms end
end
local requests = 0
if rpm > 0 then
  requests = drain(KEYS[1], now, rpm)
  if requests + 1 > rpm + 1e-9 then consider(1, (requests + 1 - rpm) * 60000 / rpm) end
end
if tpm > 0 then
  local tokens = drain(KEYS[2], now, tpm)
  if tokens >= tpm - 1e-9 then
    local ms = (tokens - tpm) * 60000 / tpm
    if ms < 0 then ms = 0 end
    consider(2, ms)
  end
end
local counts_stream = stream and max_streams > 0
if counts_stream then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= max_streams then consider(3, 1000) end
end
if reason > 0 then return {0, reason, math.ceil(retry)} end
if rpm > 0 then store(KEYS[1], requests + 1, now, rpm) end
if counts_stream then
  redis.call('ZADD', KEYS[3], now + lease, slot)
  redis.call('PEXPIRE', KEYS[3], lease + 1000)
end
return {1, now}
`;

/** KEYS: tpm. ARGV: now ('' = Redis TIME), tokensPerMinute, tokens. Returns the new level (floored). */
const CHARGE = `${COMMON}
local now = now_ms(ARGV[1])
local tpm, tokens = tonumber(ARGV[2]), tonumber(ARGV[3])
local level = drain(KEYS[1], now, tpm) + tokens
store(KEYS[1], level, now, tpm)
return math.floor(level)
`;

/**
 * KEYS: streams. ARGV: now ('' = Redis TIME), lease ms, slot ids... Extends the leases of the slots
 * still open in this process (re-adding any that expired while Redis was unreachable).
 */
const RENEW = `${COMMON}
local now = now_ms(ARGV[1])
local lease = tonumber(ARGV[2])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], now + lease, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], lease + 1000)
return #ARGV - 2
`;

/** A Lua script run with EVALSHA, falling back to EVAL when the server does not know it yet. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

export const SCRIPTS = {
  admit: new LuaScript(ADMIT),
  charge: new LuaScript(CHARGE),
  renew: new LuaScript(RENEW),
};
