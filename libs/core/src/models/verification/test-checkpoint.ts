import { CheckpointFile, INDEX_FILE, VerifyCheckpointInput } from './checkpoint';
import { CONFIG_FILE } from './model-config';
import {
  ParsedHeader,
  parseSafetensorsBuffer,
  SAFETENSORS_DTYPE_BITS,
  SafetensorsDtype,
} from './safetensors';
import { VerificationError } from './verification-error';

/**
 * Test checkpoints, generated (never downloaded): valid safetensors files and a tiny Llama-like model. Used by
 * this folder's specs and by other features' tests (upload, verification job, CLI).
 */

export interface TestTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

function tensorBytes(t: TestTensor): number {
  const bits = t.shape.reduce((acc, d) => acc * d, 1) * SAFETENSORS_DTYPE_BITS[t.dtype];
  if (bits % 8 !== 0) throw new Error(`tensor ${t.name}: ${bits} bits is not a whole number of bytes`);
  return bits / 8;
}

/**
 * The first part of a safetensors file: 8-byte length and JSON header padded with spaces to a multiple of 8 (as
 * the reference writer does), laying the tensors out in the order given. Write `dataBytes` bytes after it to
 * make a valid file — useful to stream big files without holding them in memory.
 */
export function encodeSafetensorsHeader(
  tensors: TestTensor[],
  metadata?: Record<string, string>,
): { header: Buffer; dataBytes: number } {
  const json: Record<string, unknown> = {};
  if (metadata) json.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const n = tensorBytes(t);
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let text = JSON.stringify(json);
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const body = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8 + body.length);
  header.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(header, 8);
  return { header, dataBytes: offset };
}

/** Deterministic, non-zero filler: a wrong byte order or a missing part shows up in hashes. */
const FILL = Buffer.from(Array.from({ length: 251 }, (_, i) => (i * 7 + 1) & 0xff));

/** A valid safetensors file holding `tensors` (data: a repeating deterministic byte pattern). */
export function buildSafetensors(tensors: TestTensor[], metadata?: Record<string, string>): Buffer {
  const { header, dataBytes } = encodeSafetensorsHeader(tensors, metadata);
  const file = Buffer.alloc(header.length + dataBytes);
  header.copy(file, 0);
  if (dataBytes > 0) file.fill(FILL, header.length);
  return file;
}

export interface TinyModelOptions {
  layers?: number;
  hidden?: number;
  /** Number of weight files: 1 writes model.safetensors, more write model-0000i-of-0000N.safetensors + index. */
  shards?: number;
  heads?: number;
  kvHeads?: number;
  intermediate?: number;
  vocab?: number;
  maxPositions?: number;
  dtype?: 'BF16' | 'F16' | 'F32';
}

type ResolvedOptions = Required<TinyModelOptions>;

function resolve(o: TinyModelOptions): ResolvedOptions {
  const hidden = o.hidden ?? 64;
  return {
    layers: o.layers ?? 2,
    hidden,
    shards: o.shards ?? 2,
    heads: o.heads ?? 4,
    kvHeads: o.kvHeads ?? 2,
    intermediate: o.intermediate ?? hidden * 2,
    vocab: o.vocab ?? 512,
    maxPositions: o.maxPositions ?? 2048,
    dtype: o.dtype ?? 'BF16',
  };
}

/** The tensors of a Llama-architecture model (grouped-query attention, SwiGLU MLP, untied head). */
export function tinyLlamaTensors(options: TinyModelOptions = {}): TestTensor[] {
  const o = resolve(options);
  if (o.hidden % o.heads !== 0) throw new Error('hidden must be a multiple of heads');
  const kvDim = (o.hidden / o.heads) * o.kvHeads;
  const t = (name: string, shape: number[]): TestTensor => ({ name, dtype: o.dtype, shape });
  const tensors = [t('model.embed_tokens.weight', [o.vocab, o.hidden])];
  for (let i = 0; i < o.layers; i++) {
    const p = `model.layers.${i}`;
    tensors.push(
      t(`${p}.input_layernorm.weight`, [o.hidden]),
      t(`${p}.self_attn.q_proj.weight`, [o.hidden, o.hidden]),
      t(`${p}.self_attn.k_proj.weight`, [kvDim, o.hidden]),
      t(`${p}.self_attn.v_proj.weight`, [kvDim, o.hidden]),
      t(`${p}.self_attn.o_proj.weight`, [o.hidden, o.hidden]),
      t(`${p}.post_attention_layernorm.weight`, [o.hidden]),
      t(`${p}.mlp.gate_proj.weight`, [o.intermediate, o.hidden]),
      t(`${p}.mlp.up_proj.weight`, [o.intermediate, o.hidden]),
      t(`${p}.mlp.down_proj.weight`, [o.hidden, o.intermediate]),
    );
  }
  tensors.push(t('model.norm.weight', [o.hidden]), t('lm_head.weight', [o.vocab, o.hidden]));
  return tensors;
}

const TORCH_DTYPE = { BF16: 'bfloat16', F16: 'float16', F32: 'float32' } as const;

/** A Hugging Face config.json for `tinyLlamaTensors(options)`. */
export function tinyLlamaConfig(options: TinyModelOptions = {}): Record<string, unknown> {
  const o = resolve(options);
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    torch_dtype: TORCH_DTYPE[o.dtype],
    hidden_size: o.hidden,
    intermediate_size: o.intermediate,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    num_key_value_heads: o.kvHeads,
    vocab_size: o.vocab,
    max_position_embeddings: o.maxPositions,
    hidden_act: 'silu',
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    transformers_version: '4.44.0',
  };
}

/** A small but well-formed tokenizer.json (word-level, a handful of tokens). */
export function tinyTokenizerJson(): string {
  const words = ['<unk>', '<s>', '</s>', 'hello', 'world', 'troupe', '.', ','];
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: words.slice(0, 3).map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(words.map((w, i) => [w, i])), unk_token: '<unk>' },
  });
}

export function shardName(i: number, total: number): string {
  const pad = (n: number): string => String(n).padStart(5, '0');
  return `model-${pad(i)}-of-${pad(total)}.safetensors`;
}

/**
 * Files of a tiny Llama-like checkpoint, path -> bytes: config.json, tokenizer.json, the weights (split in
 * `shards` files by consecutive tensors) and, when sharded, model.safetensors.index.json.
 */
export function buildCheckpoint(options: TinyModelOptions = {}): Map<string, Buffer> {
  const o = resolve(options);
  const tensors = tinyLlamaTensors(o);
  if (o.shards < 1 || o.shards > tensors.length) {
    throw new Error(`shards must be 1-${tensors.length} for ${o.layers} layers`);
  }
  const files = new Map<string, Buffer>();
  files.set(CONFIG_FILE, Buffer.from(JSON.stringify(tinyLlamaConfig(o), null, 2)));
  files.set('tokenizer.json', Buffer.from(tinyTokenizerJson()));
  if (o.shards === 1) {
    files.set('model.safetensors', buildSafetensors(tensors, { format: 'pt' }));
    return files;
  }
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (let s = 0; s < o.shards; s++) {
    // Spread evenly; with shards <= tensors every shard gets at least one.
    const from = Math.floor((s * tensors.length) / o.shards);
    const to = Math.floor(((s + 1) * tensors.length) / o.shards);
    const chunk = tensors.slice(from, to);
    const name = shardName(s + 1, o.shards);
    files.set(name, buildSafetensors(chunk, { format: 'pt' }));
    for (const t of chunk) {
      weightMap[t.name] = name;
      totalSize += tensorBytes(t);
    }
  }
  files.set(
    INDEX_FILE,
    Buffer.from(JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2)),
  );
  return files;
}

/**
 * What the verification job would gather for `files` (path -> bytes): sizes, config and index text, and every
 * .safetensors header parsed (or its error). Lets tests run `verifyCheckpoint` on in-memory checkpoints.
 */
export function checkpointInputFromFiles(files: Map<string, Buffer>): VerifyCheckpointInput {
  const list: CheckpointFile[] = [...files].map(([path, bytes]) => ({ path, size: bytes.length }));
  const headers = new Map<string, ParsedHeader | VerificationError>();
  for (const [path, bytes] of files) {
    if (!path.endsWith('.safetensors')) continue;
    try {
      headers.set(path, parseSafetensorsBuffer(bytes, path));
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      headers.set(path, err);
    }
  }
  return {
    files: list,
    config: files.get(CONFIG_FILE)?.toString('utf8'),
    index: files.get(INDEX_FILE)?.toString('utf8'),
    headers,
  };
}
