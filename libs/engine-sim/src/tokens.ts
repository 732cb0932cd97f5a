// Deterministic, cheap stand-ins for a tokenizer, a sampler and an embedding model.

/** Number of whitespace-separated words in `text`: the simulated token count. */
export function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // space, \t, \n, \v, \f, \r
    const space = c === 32 || (c >= 9 && c <= 13);
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}

/** 32-bit FNV-1a hash of a string, continued from `seed`. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for simulated sampling. Returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One token = one word followed by a space. */
export const VOCABULARY: readonly string[] = (
  'the a of and to in is it that was for on are with as be at by this from or an have not they which ' +
  'one you were all we when there can more if out so what up about into than them some could time ' +
  'engine model token stream batch cluster leader worker replica latency queue cache prompt answer ' +
  'light river stone cloud garden quiet bright north silver'
)
  .split(' ')
  .map((w) => `${w} `);

/** Pre-encoded JSON strings of the vocabulary, to build stream chunks without JSON.stringify. */
export const VOCABULARY_JSON: readonly string[] = VOCABULARY.map((w) => JSON.stringify(w));

/** Seed of the output generator for one choice: same prompt + seed + index -> same text. */
export function outputSeed(promptKey: string, seed: number | undefined, index: number): number {
  return fnv1a(`\u0000${seed ?? 0}\u0000${index}`, fnv1a(promptKey));
}

/** Deterministic unit vector of `dim` components for `text`. */
export function embed(text: string, dim: number): number[] {
  const rand = prng(fnv1a(text));
  const v = new Array<number>(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    const x = rand() * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dim; i++) v[i] = v[i] / norm;
  return v;
}

/** Little-endian float32 bytes in base64, as OpenAI's `encoding_format: "base64"`. */
export function embeddingToBase64(v: number[]): string {
  const f = new Float32Array(v);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}
