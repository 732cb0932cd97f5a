import { formatCount, VerificationError } from './verification-error';

/**
 * Safetensors layout: 8 bytes little-endian u64 N, N bytes of UTF-8 JSON (an object mapping tensor names to
 * `{dtype, shape, data_offsets: [begin, end]}` plus an optional `__metadata__` string map; writers pad it with
 * spaces), then the byte buffer. Offsets are relative to the buffer, `end` exclusive; tensors must cover the buffer
 * exactly (no overlap, no hole) and the buffer must end where the file ends.
 */

/** Largest header the reference implementation accepts (100 MB, decimal). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** Element sizes in bits of the dtypes the format defines. */
export const SAFETENSORS_DTYPE_BITS = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  I64: 64,
  U64: 64,
  F64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BITS;

export function isSafetensorsDtype(value: string): value is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_BITS, value);
}

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) in the byte buffer after the header. */
  dataOffsets: [number, number];
}

export interface ParsedHeader {
  /** N: bytes of JSON after the 8-byte length. */
  headerLength: number;
  /** 8 + N + dataBytes: the size the file has (verified against the object's size). */
  fileSize: number;
  /** Sorted by data offset. */
  tensors: TensorInfo[];
  metadata?: Record<string, string>;
  /** Sum over tensors of the product of their shape. */
  parameterCount: number;
  /** Bytes of tensor data (the byte buffer). */
  dataBytes: number;
  /** Parameters per dtype. */
  dtypes: Partial<Record<SafetensorsDtype, number>>;
}

const DEFAULT_FILE = 'safetensors file';

function describeStart(bytes: Buffer): string | undefined {
  const text = bytes.toString('latin1');
  if (text.startsWith('version ')) {
    return 'this is a Git LFS pointer, not the weights: fetch the real file (git lfs pull, or huggingface-cli download) and upload it again';
  }
  if (text.startsWith('PK\u0003\u0004')) {
    return 'this is a zip archive (a PyTorch .bin/.pt checkpoint?), not safetensors: convert it to safetensors and upload that';
  }
  if (text.startsWith('GGUF')) return 'this is a GGUF file, not safetensors';
  return undefined;
}

/**
 * Step 1: the header length N from the first 8 bytes, checked against the format's limit and the object's size.
 * Then read bytes [8, 8 + N) and call `parseHeader`.
 */
export function headerLength(first8: Buffer, objectSize: number, file: string = DEFAULT_FILE): number {
  if (objectSize < 8 || first8.length < 8) {
    throw new VerificationError(
      `the file is ${formatCount(objectSize)} bytes, too short to be safetensors (it starts with an 8-byte header length)`,
      file,
    );
  }
  const n = first8.readBigUInt64LE(0);
  if (n === 0n) throw new VerificationError('header length is 0: not a safetensors file', file);
  if (n > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    const hint = describeStart(first8);
    throw new VerificationError(
      hint ??
        `header length says ${formatCount(n)} bytes, above the format's limit of ${formatCount(SAFETENSORS_MAX_HEADER_BYTES)}: not a safetensors file, or corrupt`,
      file,
    );
  }
  const length = Number(n);
  if (8 + length > objectSize) {
    throw new VerificationError(
      `truncated: header length says ${formatCount(length)} bytes of JSON but the file has ${formatCount(objectSize - 8)} after the 8-byte length`,
      file,
    );
  }
  return length;
}

function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** "a string \"x\"", "an array", "null": what a value is, for messages. */
function typeName(v: unknown): string {
  return typeof v === 'object' || v === undefined ? kind(v) : `${kind(v)} ${JSON.stringify(v)}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseTensor(name: string, raw: unknown, file: string): TensorInfo {
  const where = `tensor "${name}"`;
  if (!isRecord(raw)) {
    throw new VerificationError(
      `${where} should be an object with dtype, shape and data_offsets, not ${typeName(raw)}`,
      file,
    );
  }
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') {
    throw new VerificationError(
      dtype === undefined
        ? `${where} has no dtype`
        : `${where} has a dtype that is not a string: ${typeName(dtype)}`,
      file,
    );
  }
  if (!isSafetensorsDtype(dtype)) {
    throw new VerificationError(
      `${where} has unknown dtype "${dtype}" (known: ${Object.keys(SAFETENSORS_DTYPE_BITS).join(', ')})`,
      file,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new VerificationError(
      `${where} has an invalid shape ${JSON.stringify(shape)}: expected a list of non-negative integers`,
      file,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[1] < offsets[0]) {
    throw new VerificationError(
      `${where} has invalid data_offsets ${JSON.stringify(offsets)}: expected [begin, end] with 0 <= begin <= end`,
      file,
    );
  }
  const [begin, end] = offsets as [number, number];
  const elements = (shape as number[]).reduce((acc, d) => acc * BigInt(d), 1n);
  const bits = elements * BigInt(SAFETENSORS_DTYPE_BITS[dtype]);
  const described = `${where} is ${dtype} with shape [${(shape as number[]).join(', ')}]`;
  if (bits % 8n !== 0n) {
    throw new VerificationError(
      `${described}: ${formatCount(bits)} bits is not a whole number of bytes`,
      file,
    );
  }
  const bytes = bits / 8n;
  if (bytes !== BigInt(end - begin)) {
    throw new VerificationError(
      `${described}, which takes ${formatCount(bytes)} bytes, but its data_offsets [${begin}, ${end}] span ${formatCount(end - begin)} bytes`,
      file,
    );
  }
  if (elements > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new VerificationError(`${described}: too many elements`, file);
  }
  return { name, dtype, shape: shape as number[], dataOffsets: [begin, end] };
}

function parseMetadata(raw: unknown, file: string): Record<string, string> {
  if (!isRecord(raw)) {
    throw new VerificationError(`__metadata__ should map strings to strings, not be ${typeName(raw)}`, file);
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      throw new VerificationError(
        `__metadata__ should map strings to strings, but "${k}" is ${typeName(v)}`,
        file,
      );
    }
  }
  return raw as Record<string, string>;
}

const range = (t: TensorInfo): string =>
  `bytes ${formatCount(t.dataOffsets[0])}-${formatCount(t.dataOffsets[1])}`;

/**
 * Step 2: parses and validates the JSON header (bytes [8, 8 + headerLength) of the file) against the object's
 * size. Throws a `VerificationError` naming `file` and the tensor at fault.
 */
export function parseHeader(
  json: Buffer,
  objectSize: number,
  headerLength: number,
  file: string = DEFAULT_FILE,
): ParsedHeader {
  if (json.length !== headerLength) {
    throw new VerificationError(
      `truncated: could read only ${formatCount(json.length)} of the ${formatCount(headerLength)} header bytes`,
      file,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    throw new VerificationError('header is not valid UTF-8: the file is corrupt or not safetensors', file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new VerificationError(
      `header is not valid JSON (${why}): the file is corrupt or not safetensors`,
      file,
    );
  }
  if (!isRecord(parsed)) {
    throw new VerificationError(`header should be a JSON object, not ${kind(parsed)}`, file);
  }

  let metadata: Record<string, string> | undefined;
  const tensors: TensorInfo[] = [];
  for (const [name, raw] of Object.entries(parsed)) {
    if (name === '__metadata__') metadata = parseMetadata(raw, file);
    else tensors.push(parseTensor(name, raw, file));
  }
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);

  // The buffer must be covered exactly once, from 0.
  let covered = 0;
  let previous: TensorInfo | undefined;
  for (const t of tensors) {
    const [begin, end] = t.dataOffsets;
    if (begin < covered && previous) {
      throw new VerificationError(
        `tensors "${previous.name}" (${range(previous)}) and "${t.name}" (${range(t)}) overlap`,
        file,
      );
    }
    if (begin > covered) {
      throw new VerificationError(
        `${formatCount(begin - covered)} bytes of the data buffer (bytes ${formatCount(covered)}-${formatCount(begin)}) belong to no tensor, before "${t.name}"`,
        file,
      );
    }
    covered = end;
    if (end > begin || !previous) previous = t;
  }

  const dataBytes = covered;
  const available = objectSize - 8 - headerLength;
  if (dataBytes > available) {
    throw new VerificationError(
      `truncated: header says ${formatCount(dataBytes)} bytes of tensor data but the file has ${formatCount(available)} after the header`,
      file,
    );
  }
  if (dataBytes < available) {
    throw new VerificationError(
      `${formatCount(available - dataBytes)} unexpected bytes after the tensor data: header says ${formatCount(dataBytes)} bytes of tensor data but the file has ${formatCount(available)} after the header (padded or corrupt)`,
      file,
    );
  }

  let parameterCount = 0;
  const dtypes: Partial<Record<SafetensorsDtype, number>> = {};
  for (const t of tensors) {
    const n = t.shape.reduce((acc, d) => acc * d, 1);
    parameterCount += n;
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + n;
  }
  return {
    headerLength,
    fileSize: objectSize,
    tensors,
    ...(metadata === undefined ? {} : { metadata }),
    parameterCount,
    dataBytes,
    dtypes,
  };
}

/** Both steps at once, from the first 8 bytes and the header bytes that follow them. */
export function parseSafetensorsHeader(
  first8: Buffer,
  headerJson: Buffer,
  objectSize: number,
  file: string = DEFAULT_FILE,
): ParsedHeader {
  return parseHeader(headerJson, objectSize, headerLength(first8, objectSize, file), file);
}

/** Parses the header of a whole safetensors file held in memory (small files, tests). */
export function parseSafetensorsBuffer(buffer: Buffer, file: string = DEFAULT_FILE): ParsedHeader {
  const n = headerLength(buffer.subarray(0, 8), buffer.length, file);
  return parseHeader(buffer.subarray(8, 8 + n), buffer.length, n, file);
}
