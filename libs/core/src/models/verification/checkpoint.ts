import { CONFIG_FILE, ModelConfigSummary, parseModelConfig } from './model-config';
import { ParsedHeader } from './safetensors';
import { formatCount, VerificationError } from './verification-error';

export const INDEX_FILE = 'model.safetensors.index.json';

export interface CheckpointFile {
  /** Relative path inside the version, e.g. "model-00001-of-00004.safetensors". */
  path: string;
  size: number;
}

export interface VerifyCheckpointInput {
  /** Every file of the version. */
  files: CheckpointFile[];
  /** Text of config.json, when the version has one. */
  config?: string;
  /** Text of model.safetensors.index.json, when the version has one. */
  index?: string;
  /**
   * Parsed header (or the error parsing it) of each weight file: see `weightFiles` for which to read. Parse with
   * the file's path as `file` so that errors name it.
   */
  headers: ReadonlyMap<string, ParsedHeader | VerificationError>;
}

export interface CheckpointMetadata extends ModelConfigSummary {
  parameterCount: number;
  /** Bytes of tensor data over the weight files (headers excluded). */
  weightBytes: number;
  /** The dtype most parameters are stored in (what the weights are, whatever config.json says). */
  dtype: string;
  /** Parameters per stored dtype. */
  dtypes: Record<string, number>;
  tensorCount: number;
  shardCount: number;
  /** The weight files counted, sorted. */
  files: string[];
}

export type VerifyCheckpointResult =
  { ok: true; metadata: CheckpointMetadata } | { ok: false; reasons: string[] };

export interface SafetensorsIndex {
  /** tensor name -> shard path */
  weightMap: Map<string, string>;
  /** Distinct shard paths, sorted. */
  shards: string[];
  totalSize?: number;
}

const SERIES_RE = /^(.*)-(\d+)-of-(\d+)\.safetensors$/;
/** How many names a reason lists before "and N more". */
const LIST_LIMIT = 5;

function listSome(names: string[]): string {
  const shown = names.slice(0, LIST_LIMIT).map((n) => `"${n}"`);
  return names.length > LIST_LIMIT
    ? `${shown.join(', ')} and ${names.length - LIST_LIMIT} more`
    : shown.join(', ');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses model.safetensors.index.json; throws a VerificationError naming it. */
export function parseSafetensorsIndex(json: string): SafetensorsIndex {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new VerificationError(`not valid JSON (${why})`, INDEX_FILE);
  }
  if (!isRecord(parsed) || !isRecord(parsed.weight_map)) {
    throw new VerificationError(
      'should be a JSON object with a "weight_map" object (tensor name -> shard file)',
      INDEX_FILE,
    );
  }
  const weightMap = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(parsed.weight_map)) {
    if (typeof shard !== 'string' || shard.length === 0) {
      throw new VerificationError(
        `weight_map maps "${tensor}" to ${JSON.stringify(shard)}, not to a file name`,
        INDEX_FILE,
      );
    }
    weightMap.set(tensor, shard);
  }
  const totalSize = isRecord(parsed.metadata) ? parsed.metadata.total_size : undefined;
  return {
    weightMap,
    shards: [...new Set(weightMap.values())].sort(),
    ...(typeof totalSize === 'number' ? { totalSize } : {}),
  };
}

/**
 * The weight files of a version: the shards the index references when there is an index (files it does not
 * reference, such as a `consolidated.safetensors` next to the shards, are not loaded by serving engines), else
 * every `.safetensors` file at the top level. Only those that exist are returned.
 */
export function weightFiles(files: CheckpointFile[], index?: SafetensorsIndex): string[] {
  const present = new Set(files.map((f) => f.path));
  if (index) return index.shards.filter((s) => present.has(s));
  return files
    .map((f) => f.path)
    .filter((p) => p.endsWith('.safetensors') && !p.includes('/'))
    .sort();
}

/**
 * Decides whether a version's files make a servable checkpoint: config.json present and valid; safetensors
 * weights present; every shard the index references present, and every tensor it maps to a shard in that
 * shard's header; every header valid and matching its file's size; no tensor in two files. Returns the model's
 * metadata with parameter count and weight bytes summed, or every reason it is not servable, worded for the
 * person who uploaded it.
 */
export function verifyCheckpoint(input: VerifyCheckpointInput): VerifyCheckpointResult {
  const reasons: string[] = [];
  const sizes = new Map(input.files.map((f) => [f.path, f.size]));

  let config: ModelConfigSummary | undefined;
  if (input.config === undefined) {
    reasons.push(
      sizes.has(CONFIG_FILE)
        ? `${CONFIG_FILE} could not be read`
        : `missing ${CONFIG_FILE}: upload the model's Hugging Face config.json with the weights`,
    );
  } else {
    try {
      config = parseModelConfig(input.config);
    } catch (err) {
      reasons.push(err instanceof Error ? err.message : String(err));
    }
  }

  let index: SafetensorsIndex | undefined;
  let indexUnusable = false;
  if (input.index !== undefined) {
    try {
      index = parseSafetensorsIndex(input.index);
    } catch (err) {
      reasons.push(err instanceof Error ? err.message : String(err));
      indexUnusable = true;
    }
  } else if (sizes.has(INDEX_FILE)) {
    reasons.push(`${INDEX_FILE} could not be read`);
    indexUnusable = true;
  }

  // Shards the index references that are not there.
  if (index) {
    const tensorsPerShard = new Map<string, number>();
    for (const shard of index.weightMap.values())
      tensorsPerShard.set(shard, (tensorsPerShard.get(shard) ?? 0) + 1);
    for (const shard of index.shards) {
      if (!sizes.has(shard)) {
        const n = tensorsPerShard.get(shard) ?? 0;
        reasons.push(
          `missing shard ${shard} referenced by ${INDEX_FILE} (weight_map has ${formatCount(n)} tensor${n === 1 ? '' : 's'} in it)`,
        );
      }
    }
    if (index.weightMap.size === 0) reasons.push(`${INDEX_FILE} has an empty weight_map`);
  }

  const weights = indexUnusable ? [] : weightFiles(input.files, index);

  // Without an index, a numbered series (model-00001-of-00004...) must be complete.
  if (!index && !indexUnusable) reasons.push(...missingFromSeries(weights));

  if (!indexUnusable && weights.length === 0 && (!index || index.shards.length === 0)) {
    const other = input.files
      .map((f) => f.path)
      .filter((p) => /\.(bin|pt|pth|ckpt|gguf|h5|msgpack)$/.test(p));
    reasons.push(
      other.length > 0
        ? `no .safetensors weights found (found ${listSome(other)}): convert the weights to safetensors, which can be checked and loaded without running code`
        : 'no .safetensors weights found at the top level of the version: upload the model-*.safetensors files',
    );
  }

  // Headers.
  const parsed = new Map<string, ParsedHeader>();
  for (const path of weights) {
    const header = input.headers.get(path);
    if (header === undefined) {
      reasons.push(`${path}: its header was not read`);
    } else if (header instanceof VerificationError) {
      reasons.push(header.message);
    } else if (header.fileSize !== sizes.get(path)) {
      reasons.push(
        `${path}: the header was checked against ${formatCount(header.fileSize)} bytes but the file has ${formatCount(sizes.get(path) ?? 0)}`,
      );
    } else {
      parsed.set(path, header);
    }
  }

  // Tensors the index maps to a shard that does not hold them.
  if (index) {
    const expected = new Map<string, string[]>();
    for (const [tensor, shard] of index.weightMap) {
      const list = expected.get(shard) ?? [];
      list.push(tensor);
      expected.set(shard, list);
    }
    for (const [shard, tensors] of expected) {
      const header = parsed.get(shard);
      if (!header) continue;
      const held = new Set(header.tensors.map((t) => t.name));
      const absent = tensors.filter((t) => !held.has(t)).sort();
      if (absent.length > 0) {
        reasons.push(
          `${INDEX_FILE} maps ${formatCount(absent.length)} tensor${absent.length === 1 ? '' : 's'} to ${shard} that it does not contain: ${listSome(absent)}`,
        );
      }
    }
  }

  // A tensor in two files means two checkpoints were mixed.
  const owner = new Map<string, string>();
  const duplicates: string[] = [];
  for (const [path, header] of parsed) {
    for (const t of header.tensors) {
      const first = owner.get(t.name);
      if (first === undefined) owner.set(t.name, path);
      else duplicates.push(`"${t.name}" in ${first} and ${path}`);
    }
  }
  if (duplicates.length > 0) {
    const shown = duplicates.slice(0, LIST_LIMIT).join(', ');
    const more = duplicates.length > LIST_LIMIT ? ` and ${duplicates.length - LIST_LIMIT} more` : '';
    reasons.push(
      `${formatCount(duplicates.length)} tensor${duplicates.length === 1 ? ' is' : 's are'} in more than one weight file (${shown}${more}): the files come from different checkpoints`,
    );
  }

  if (reasons.length === 0 && owner.size === 0) reasons.push('the weight files contain no tensors');
  if (reasons.length > 0 || !config) return { ok: false, reasons };

  let parameterCount = 0;
  let weightBytes = 0;
  const dtypes: Record<string, number> = {};
  for (const header of parsed.values()) {
    parameterCount += header.parameterCount;
    weightBytes += header.dataBytes;
    for (const [dtype, n] of Object.entries(header.dtypes)) dtypes[dtype] = (dtypes[dtype] ?? 0) + (n ?? 0);
  }
  const dtype = Object.entries(dtypes).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? '';
  return {
    ok: true,
    metadata: {
      ...config,
      parameterCount,
      weightBytes,
      dtype,
      dtypes,
      tensorCount: owner.size,
      shardCount: parsed.size,
      files: [...parsed.keys()].sort(),
    },
  };
}

/** Reasons for numbers missing from `<name>-0000i-of-0000N.safetensors` series among `paths`. */
function missingFromSeries(paths: string[]): string[] {
  const series = new Map<string, { base: string; total: string; width: number; seen: Set<number> }>();
  for (const p of paths) {
    const m = SERIES_RE.exec(p);
    if (!m) continue;
    const [, base, num, total] = m;
    const id = JSON.stringify([base, total]);
    const s = series.get(id) ?? { base, total, width: num.length, seen: new Set<number>() };
    s.seen.add(Number(num));
    series.set(id, s);
  }
  const reasons: string[] = [];
  for (const s of series.values()) {
    const total = Number(s.total);
    let missing = 0;
    // Names are user input: bound the work whatever total they claim.
    for (let i = 1; i <= Math.min(total, 100_000); i++) {
      if (s.seen.has(i)) continue;
      missing++;
      if (missing <= LIST_LIMIT) {
        const name = `${s.base}-${String(i).padStart(s.width, '0')}-of-${s.total}.safetensors`;
        reasons.push(`missing shard ${name}: the other shards say there are ${formatCount(total)}`);
      }
    }
    if (missing > LIST_LIMIT) {
      reasons.push(
        `${formatCount(missing - LIST_LIMIT)} more shards of ${s.base}-*-of-${s.total}.safetensors are missing`,
      );
    }
  }
  return reasons;
}
