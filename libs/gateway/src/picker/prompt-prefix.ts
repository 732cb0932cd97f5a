// The prefix an engine would see for a request, as chained hashes of fixed-size character blocks.
// No tokenizer: chat messages become role markers and content in order (what a chat template does
// in substance), and a block hash stands for everything before its end, so two requests share the
// leading blocks of their common prefix and nothing after the first difference. Pure.

/** Characters per block: about 16 to 32 tokens of English text, the engine's block order of size. */
export const PREFIX_BLOCK_CHARS = 64;
/** Blocks hashed at most per request (the first 32 Ki characters); bounds the work per request. */
export const PREFIX_MAX_BLOCKS = 512;

type Obj = Record<string, unknown>;

class BlockHasher {
  readonly hashes: number[] = [];
  private h1 = 0x811c9dc5;
  private h2 = 0x2f9be6cc;
  private filled = 0;

  constructor(
    private readonly blockChars: number,
    private readonly maxBlocks: number,
  ) {}

  get full(): boolean {
    return this.hashes.length >= this.maxBlocks;
  }

  feed(text: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    let filled = this.filled;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 13;
      if (++filled === this.blockChars) {
        filled = 0;
        // 53 bits, a safe integer: a Map key without building a string.
        this.hashes.push((h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff));
        if (this.hashes.length >= this.maxBlocks) break;
      }
    }
    this.h1 = h1;
    this.h2 = h2;
    this.filled = filled;
  }
}

function feedContent(h: BlockHasher, content: unknown): void {
  if (typeof content === 'string') h.feed(content);
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (typeof part === 'string') h.feed(part);
      else if (typeof part === 'object' && part !== null && typeof (part as Obj).text === 'string') {
        h.feed((part as Obj).text as string);
      }
      h.feed('\n');
    }
  }
}

/**
 * Block hashes of a request's prompt prefix: `messages` (chat), or `prompt` (completions: a string,
 * or the first of a list), else none. Only full blocks: a prompt shorter than one block has none.
 */
export function promptBlocks(
  body: Obj,
  blockChars = PREFIX_BLOCK_CHARS,
  maxBlocks = PREFIX_MAX_BLOCKS,
): number[] {
  const h = new BlockHasher(blockChars, maxBlocks);
  const messages = body.messages;
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (h.full) break;
      if (typeof m !== 'object' || m === null) continue;
      const role = (m as Obj).role;
      h.feed('<|im_start|>');
      h.feed(typeof role === 'string' ? role : '');
      h.feed('\n');
      feedContent(h, (m as Obj).content);
      h.feed('<|im_end|>\n');
    }
    return h.hashes;
  }
  let prompt = body.prompt;
  if (Array.isArray(prompt) && typeof prompt[0] !== 'number') prompt = prompt[0];
  if (typeof prompt === 'string') h.feed(prompt);
  else if (Array.isArray(prompt)) for (const t of prompt) h.feed(`${String(t)} `);
  return h.hashes;
}
