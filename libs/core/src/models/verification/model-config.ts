import { VerificationError } from './verification-error';

export const CONFIG_FILE = 'config.json';

/** What the platform needs from a Hugging Face `config.json`. */
export interface ModelConfigSummary {
  /** architectures[0], e.g. "LlamaForCausalLM": what serving engines pick the implementation by. */
  architecture: string;
  /** model_type, e.g. "llama" (of the outer model for multimodal configs, e.g. "llava"). */
  modelType: string;
  /** torch_dtype (or `dtype`, its newer name), e.g. "bfloat16"; absent from some older configs (gpt2). */
  torchDtype?: string;
  hiddenSize: number;
  numLayers: number;
  numAttentionHeads: number;
  /** Absent for models without grouped-query attention (then equal to numAttentionHeads). */
  numKeyValueHeads?: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  intermediateSize?: number;
}

type Json = Record<string, unknown>;

interface Field {
  key: keyof ModelConfigSummary;
  names: string[];
  required: boolean;
}

/** Integer fields and the names different model families give them, preferred first. */
const INT_FIELDS: Field[] = [
  { key: 'hiddenSize', names: ['hidden_size', 'n_embd', 'd_model'], required: true },
  { key: 'numLayers', names: ['num_hidden_layers', 'n_layer', 'num_layers'], required: true },
  { key: 'numAttentionHeads', names: ['num_attention_heads', 'n_head', 'num_heads'], required: true },
  {
    key: 'numKeyValueHeads',
    names: ['num_key_value_heads', 'num_kv_heads', 'multi_query_group_num'],
    required: false,
  },
  { key: 'vocabSize', names: ['vocab_size', 'padded_vocab_size'], required: true },
  {
    key: 'maxPositionEmbeddings',
    names: ['max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length', 'n_ctx'],
    required: true,
  },
  {
    key: 'intermediateSize',
    names: ['intermediate_size', 'n_inner', 'ffn_hidden_size', 'ffn_dim'],
    required: false,
  },
];

/** Where multimodal configs keep their language model's settings. */
const NESTED_TEXT_CONFIGS = ['text_config', 'llm_config', 'language_config'];

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const describe = (v: unknown): string =>
  typeof v === 'string' ? `"${v}"` : (JSON.stringify(v) ?? String(v));

/**
 * Parses a Hugging Face `config.json`. Fields are looked up at the top level, then in a nested text config
 * (`text_config` and the like, for multimodal models); aliases of other families (gpt2's `n_embd`, `n_layer`,
 * `n_head`, `n_positions`...) are accepted. Throws a `VerificationError` naming every missing or invalid field.
 */
export function parseModelConfig(json: string): ModelConfigSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new VerificationError(`not valid JSON (${why})`, CONFIG_FILE);
  }
  if (!isRecord(parsed)) {
    throw new VerificationError('should be a JSON object (a Hugging Face model config)', CONFIG_FILE);
  }
  const scopes: Json[] = [parsed, ...NESTED_TEXT_CONFIGS.map((k) => parsed[k]).filter(isRecord)];
  const missing: string[] = [];
  const invalid: string[] = [];

  const lookup = (names: string[]): { name: string; value: unknown } | undefined => {
    for (const scope of scopes) {
      for (const name of names) {
        if (scope[name] !== undefined && scope[name] !== null) return { name, value: scope[name] };
      }
    }
    return undefined;
  };

  let architecture = '';
  const archs = parsed.architectures;
  if (archs === undefined || archs === null) {
    missing.push('architectures (e.g. ["LlamaForCausalLM"])');
  } else if (!Array.isArray(archs) || typeof archs[0] !== 'string' || archs[0].length === 0) {
    invalid.push(`architectures must be a non-empty list of class names (got ${describe(archs)})`);
  } else {
    architecture = archs[0];
  }

  let modelType = '';
  const mt = parsed.model_type;
  if (mt === undefined || mt === null) missing.push('model_type');
  else if (typeof mt !== 'string' || mt.length === 0)
    invalid.push(`model_type must be a string (got ${describe(mt)})`);
  else modelType = mt;

  let torchDtype: string | undefined;
  const dt = lookup(['torch_dtype', 'dtype']);
  if (dt !== undefined) {
    if (typeof dt.value === 'string' && dt.value.length > 0) torchDtype = dt.value;
    else invalid.push(`${dt.name} must be a string such as "bfloat16" (got ${describe(dt.value)})`);
  }

  const ints: Partial<Record<keyof ModelConfigSummary, number>> = {};
  for (const field of INT_FIELDS) {
    const found = lookup(field.names);
    if (found === undefined) {
      if (field.required) {
        const [first, ...aliases] = field.names;
        missing.push(aliases.length ? `${first} (or ${aliases.join(', ')})` : first);
      }
      continue;
    }
    if (typeof found.value === 'number' && Number.isSafeInteger(found.value) && found.value > 0) {
      ints[field.key] = found.value;
    } else {
      invalid.push(`${found.name} must be a positive integer (got ${describe(found.value)})`);
    }
  }

  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing ${missing.join(', ')}`);
  problems.push(...invalid);
  if (problems.length > 0) {
    throw new VerificationError(
      `${problems.join('; ')}: it must be the model's Hugging Face config`,
      CONFIG_FILE,
    );
  }

  const summary: ModelConfigSummary = {
    architecture,
    modelType,
    hiddenSize: ints.hiddenSize as number,
    numLayers: ints.numLayers as number,
    numAttentionHeads: ints.numAttentionHeads as number,
    vocabSize: ints.vocabSize as number,
    maxPositionEmbeddings: ints.maxPositionEmbeddings as number,
  };
  if (torchDtype !== undefined) summary.torchDtype = torchDtype;
  if (ints.numKeyValueHeads !== undefined) summary.numKeyValueHeads = ints.numKeyValueHeads;
  if (ints.intermediateSize !== undefined) summary.intermediateSize = ints.intermediateSize;
  return summary;
}
