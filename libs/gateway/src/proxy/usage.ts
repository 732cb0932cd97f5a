// Token usage as engines report it, read from a response while it passes through unchanged.

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

const USAGE_KEY = Buffer.from('"usage":{');
const EVENT_END = Buffer.from('\n\n');
/** A pending (incomplete) event larger than this is forwarded as is rather than held. */
const MAX_PENDING_BYTES = 1 << 20;

/** `{"prompt_tokens","completion_tokens",...}` → TokenUsage, or undefined when not a usage object. */
export function toUsage(v: unknown): TokenUsage | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const u = v as Record<string, unknown>;
  const prompt = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : undefined;
  const completion = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  if (prompt === undefined) return undefined;
  return { promptTokens: prompt, completionTokens: completion };
}

/**
 * The `usage` object of a JSON text from its last `"usage":{`, by matching braces (strings skipped),
 * without parsing the rest. Keys inside JSON strings cannot match: their quotes are escaped.
 */
export function usageFromJsonText(text: Buffer): TokenUsage | undefined {
  const at = text.lastIndexOf(USAGE_KEY);
  if (at < 0) return undefined;
  const start = at + USAGE_KEY.length - 1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b) depth++;
    else if (ch === 0x7d && --depth === 0) {
      try {
        return toUsage(JSON.parse(text.subarray(start, i + 1).toString('utf8')));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Keeps the last bytes of a non-streamed response: engines put `usage` at the end of the object
 * (vLLM: after `choices` / `data`), so a small tail finds it without holding the whole body.
 */
export class UsageTail {
  private tail: Buffer = Buffer.alloc(0);

  constructor(private readonly keepBytes = 8192) {}

  push(chunk: Buffer): void {
    if (chunk.length >= this.keepBytes) this.tail = chunk.subarray(chunk.length - this.keepBytes);
    else if (this.tail.length + chunk.length <= this.keepBytes) this.tail = Buffer.concat([this.tail, chunk]);
    else {
      const joined = Buffer.concat([this.tail, chunk]);
      this.tail = joined.subarray(joined.length - this.keepBytes);
    }
  }

  usage(): TokenUsage | undefined {
    return usageFromJsonText(this.tail);
  }
}

/**
 * Relays a Server-Sent Events stream of chat or text completion chunks. Whole events are forwarded as
 * soon as they are complete (an event split across reads waits for its end: a client must never see
 * half an event, in particular when the stream is then ended with an error event). The usage the
 * engine reports is kept; the usage-only chunk (`"choices":[]` with `usage`) is dropped when the
 * caller did not ask for it (the gateway asked on its behalf).
 */
export class SseRelay {
  usage?: TokenUsage;
  private pending: Buffer | null = null;

  constructor(private readonly dropUsageChunk: boolean) {}

  /** Bytes to forward for this chunk (possibly empty). */
  push(chunk: Buffer): Buffer {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    const last = buf.lastIndexOf(EVENT_END);
    if (last < 0) {
      if (buf.length > MAX_PENDING_BYTES) return buf;
      this.pending = buf;
      return EMPTY;
    }
    const end = last + EVENT_END.length;
    if (end < buf.length) {
      this.pending = buf.subarray(end);
      buf = buf.subarray(0, end);
    }
    if (buf.indexOf(USAGE_KEY) < 0) return buf;
    return this.filter(buf);
  }

  /** Whatever incomplete event is left when the upstream ends (forwarded only on a clean end). */
  rest(): Buffer {
    const p = this.pending ?? EMPTY;
    this.pending = null;
    return p;
  }

  private filter(buf: Buffer): Buffer {
    const kept: Buffer[] = [];
    let from = 0;
    let changed = false;
    while (from < buf.length) {
      const at = buf.indexOf(EVENT_END, from);
      const end = at < 0 ? buf.length : at + EVENT_END.length;
      const event = buf.subarray(from, end);
      from = end;
      if (event.indexOf(USAGE_KEY) < 0) {
        kept.push(event);
        continue;
      }
      const chunk = parseDataEvent(event);
      const usage = chunk ? toUsage(chunk.usage) : undefined;
      if (usage) this.usage = usage;
      if (this.dropUsageChunk && usage && Array.isArray(chunk?.choices) && chunk.choices.length === 0) {
        changed = true;
        continue;
      }
      kept.push(event);
    }
    return changed ? Buffer.concat(kept) : buf;
  }
}

const EMPTY = Buffer.alloc(0);

/** The JSON of an event made of `data:` lines, or undefined. */
function parseDataEvent(event: Buffer): Record<string, unknown> | undefined {
  const text = event.toString('utf8');
  let data = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('data:')) data += line.slice(line[5] === ' ' ? 6 : 5);
  }
  if (!data || data === '[DONE]') return undefined;
  try {
    const v: unknown = JSON.parse(data);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
