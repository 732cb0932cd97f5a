import { describe, expect, it } from 'vitest';
import { ModelConfigSummary, parseModelConfig } from './model-config';
import { tinyLlamaConfig } from './test-checkpoint';
import { VerificationError } from './verification-error';

const llama = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  torch_dtype: 'bfloat16',
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  max_position_embeddings: 131072,
};

const llamaSummary: ModelConfigSummary = {
  architecture: 'LlamaForCausalLM',
  modelType: 'llama',
  torchDtype: 'bfloat16',
  hiddenSize: 4096,
  numLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  vocabSize: 128256,
  maxPositionEmbeddings: 131072,
  intermediateSize: 14336,
};

describe('parseModelConfig', () => {
  it.each<[string, Record<string, unknown>, ModelConfigSummary]>([
    ['a Llama config', llama, llamaSummary],
    [
      'gpt2 names (n_embd, n_layer, n_head, n_positions) and no torch_dtype',
      {
        architectures: ['GPT2LMHeadModel'],
        model_type: 'gpt2',
        n_embd: 768,
        n_layer: 12,
        n_head: 12,
        n_positions: 1024,
        n_ctx: 1024,
        n_inner: null,
        vocab_size: 50257,
      },
      {
        architecture: 'GPT2LMHeadModel',
        modelType: 'gpt2',
        hiddenSize: 768,
        numLayers: 12,
        numAttentionHeads: 12,
        vocabSize: 50257,
        maxPositionEmbeddings: 1024,
      },
    ],
    [
      '"dtype", the newer name of torch_dtype',
      { ...llama, torch_dtype: undefined, dtype: 'float16' },
      { ...llamaSummary, torchDtype: 'float16' },
    ],
    [
      'a multimodal config with its language model in text_config',
      {
        architectures: ['LlavaForConditionalGeneration'],
        model_type: 'llava',
        torch_dtype: 'float16',
        vision_config: { hidden_size: 1024, num_hidden_layers: 24, model_type: 'clip_vision_model' },
        text_config: { ...llama, architectures: undefined, model_type: 'llama', torch_dtype: undefined },
      },
      {
        ...llamaSummary,
        architecture: 'LlavaForConditionalGeneration',
        modelType: 'llava',
        torchDtype: 'float16',
      },
    ],
    [
      'the generated tiny model',
      tinyLlamaConfig({ hidden: 64, layers: 3 }),
      {
        architecture: 'LlamaForCausalLM',
        modelType: 'llama',
        torchDtype: 'bfloat16',
        hiddenSize: 64,
        numLayers: 3,
        numAttentionHeads: 4,
        numKeyValueHeads: 2,
        vocabSize: 512,
        maxPositionEmbeddings: 2048,
        intermediateSize: 128,
      },
    ],
  ])('reads %s', (_what, config, expected) => {
    expect(parseModelConfig(JSON.stringify(config))).toEqual(expected);
  });

  it.each<[string, string, string | RegExp]>([
    ['invalid JSON', '{"architectures": [', /^config\.json: not valid JSON \(/],
    ['a JSON array', '[]', 'config.json: should be a JSON object (a Hugging Face model config)'],
    [
      'missing fields, all named',
      JSON.stringify({ model_type: 'llama', hidden_size: 8, vocab_size: 10 }),
      'config.json: missing architectures (e.g. ["LlamaForCausalLM"]), num_hidden_layers (or n_layer, num_layers), ' +
        'num_attention_heads (or n_head, num_heads), max_position_embeddings (or n_positions, max_sequence_length, ' +
        "seq_length, n_ctx): it must be the model's Hugging Face config",
    ],
    [
      'fields of the wrong type',
      JSON.stringify({
        ...llama,
        architectures: [],
        hidden_size: '4096',
        num_hidden_layers: 0,
        torch_dtype: 16,
      }),
      'config.json: architectures must be a non-empty list of class names (got []); torch_dtype must be a string ' +
        'such as "bfloat16" (got 16); hidden_size must be a positive integer (got "4096"); num_hidden_layers must ' +
        "be a positive integer (got 0): it must be the model's Hugging Face config",
    ],
  ])('refuses %s', (_what, json, expected) => {
    let err: unknown;
    try {
      parseModelConfig(json);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerificationError);
    if (typeof expected === 'string') expect((err as Error).message).toBe(expected);
    else expect((err as Error).message).toMatch(expected);
  });
});
