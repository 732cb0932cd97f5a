import { describe, expect, it } from 'vitest';
import { INDEX_FILE, verifyCheckpoint, VerifyCheckpointResult, weightFiles } from './checkpoint';
import { SAFETENSORS_DTYPE_BITS } from './safetensors';
import {
  buildCheckpoint,
  buildSafetensors,
  checkpointInputFromFiles,
  shardName,
  tinyLlamaTensors,
  TinyModelOptions,
} from './test-checkpoint';

function verify(files: Map<string, Buffer>): VerifyCheckpointResult {
  return verifyCheckpoint(checkpointInputFromFiles(files));
}

function reasons(files: Map<string, Buffer>): string[] {
  const result = verify(files);
  if (result.ok) throw new Error('expected the checkpoint to be refused');
  return result.reasons;
}

function edit(options: TinyModelOptions, change: (files: Map<string, Buffer>) => void): Map<string, Buffer> {
  const files = buildCheckpoint(options);
  change(files);
  return files;
}

const indexOf = (files: Map<string, Buffer>) =>
  JSON.parse(files.get(INDEX_FILE)!.toString()) as { weight_map: Record<string, string> };

describe('buildCheckpoint', () => {
  it('writes config, tokenizer, numbered shards and an index covering every tensor', () => {
    const files = buildCheckpoint({ layers: 3, shards: 4 });
    expect([...files.keys()].sort()).toEqual([
      'config.json',
      'model-00001-of-00004.safetensors',
      'model-00002-of-00004.safetensors',
      'model-00003-of-00004.safetensors',
      'model-00004-of-00004.safetensors',
      INDEX_FILE,
      'tokenizer.json',
    ]);
    const names = tinyLlamaTensors({ layers: 3 }).map((t) => t.name);
    expect(Object.keys(indexOf(files).weight_map).sort()).toEqual([...names].sort());
    expect(JSON.parse(files.get('tokenizer.json')!.toString()).model.type).toBe('WordLevel');
  });

  it('writes a single model.safetensors without index for one shard', () => {
    expect([...buildCheckpoint({ shards: 1 }).keys()].sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
    ]);
  });
});

describe('verifyCheckpoint', () => {
  it.each<[string, TinyModelOptions]>([
    ['sharded with an index', { layers: 3, shards: 4 }],
    ['a single file', { layers: 2, shards: 1, dtype: 'F32' }],
    ['as many shards as tensors', { layers: 1, shards: 12, hidden: 32 }],
  ])('accepts a generated checkpoint, %s, and sums parameters and bytes', (_what, options) => {
    const files = buildCheckpoint(options);
    const result = verify(files);
    if (!result.ok) throw new Error(result.reasons.join('\n'));
    const specs = tinyLlamaTensors(options);
    const parameters = specs.reduce((sum, t) => sum + t.shape.reduce((a, d) => a * d, 1), 0);
    const dtype = options.dtype ?? 'BF16';
    const expectedFiles = [...files.keys()].filter((p) => p.endsWith('.safetensors')).sort();
    expect(result.metadata).toMatchObject({
      architecture: 'LlamaForCausalLM',
      modelType: 'llama',
      numLayers: options.layers,
      parameterCount: parameters,
      weightBytes: (parameters * SAFETENSORS_DTYPE_BITS[dtype]) / 8,
      dtype,
      dtypes: { [dtype]: parameters },
      tensorCount: specs.length,
      shardCount: options.shards,
      files: expectedFiles,
    });
  });

  it('ignores .safetensors files the index does not reference (a consolidated copy next to the shards)', () => {
    const files = buildCheckpoint({ layers: 2, shards: 2 });
    files.set('consolidated.safetensors', buildSafetensors(tinyLlamaTensors({ layers: 2 })));
    const result = verify(files);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.metadata.files).toEqual([shardName(1, 2), shardName(2, 2)]);
  });

  it.each<[string, Map<string, Buffer>, (string | RegExp)[]]>([
    [
      'missing config.json',
      edit({}, (f) => f.delete('config.json')),
      ["missing config.json: upload the model's Hugging Face config.json with the weights"],
    ],
    [
      'an invalid config.json',
      edit({}, (f) => f.set('config.json', Buffer.from('{"model_type": "llama"}'))),
      [/^config\.json: missing architectures .*, hidden_size \(or n_embd, d_model\)/],
    ],
    [
      'a missing shard',
      edit({ layers: 3, shards: 4 }, (f) => f.delete(shardName(3, 4))),
      [
        /^missing shard model-00003-of-00004\.safetensors referenced by model\.safetensors\.index\.json \(weight_map has \d+ tensors in it\)$/,
      ],
    ],
    [
      'an index mapping tensors to a shard that lacks them',
      edit({ layers: 2, shards: 2 }, (f) => {
        const index = indexOf(f);
        index.weight_map['model.layers.9.mlp.up_proj.weight'] = shardName(2, 2);
        index.weight_map['model.layers.9.mlp.down_proj.weight'] = shardName(2, 2);
        f.set(INDEX_FILE, Buffer.from(JSON.stringify(index)));
      }),
      [
        'model.safetensors.index.json maps 2 tensors to model-00002-of-00002.safetensors that it does not contain: ' +
          '"model.layers.9.mlp.down_proj.weight", "model.layers.9.mlp.up_proj.weight"',
      ],
    ],
    [
      'an index that is not JSON',
      edit({}, (f) => f.set(INDEX_FILE, Buffer.from('{'))),
      [/^model\.safetensors\.index\.json: not valid JSON/],
    ],
    [
      'a corrupt header',
      edit({ shards: 2 }, (f) => {
        const shard = f.get(shardName(2, 2))!;
        shard.write('[', 8);
      }),
      [/^model-00002-of-00002\.safetensors: header is not valid JSON/],
    ],
    [
      'a truncated shard',
      edit({ shards: 2 }, (f) => {
        const shard = f.get(shardName(1, 2))!;
        f.set(shardName(1, 2), shard.subarray(0, shard.length - 100));
      }),
      [
        /^model-00001-of-00002\.safetensors: truncated: header says [\d,]+ bytes of tensor data but the file has [\d,]+ after the header$/,
      ],
    ],
    [
      'a padded shard',
      edit({ shards: 1 }, (f) => {
        f.set('model.safetensors', Buffer.concat([f.get('model.safetensors')!, Buffer.alloc(16)]));
      }),
      [/^model\.safetensors: 16 unexpected bytes after the tensor data/],
    ],
    [
      'no safetensors, but pickles',
      edit({ shards: 1 }, (f) => {
        f.delete('model.safetensors');
        f.set('pytorch_model.bin', Buffer.alloc(10));
      }),
      [/^no \.safetensors weights found \(found "pytorch_model\.bin"\): convert the weights to safetensors/],
    ],
    [
      'a numbered shard missing and no index',
      edit({ layers: 3, shards: 4 }, (f) => {
        f.delete(INDEX_FILE);
        f.delete(shardName(2, 4));
      }),
      ['missing shard model-00002-of-00004.safetensors: the other shards say there are 4'],
    ],
    [
      'two checkpoints mixed without an index',
      edit({ layers: 1, shards: 2 }, (f) => {
        f.delete(INDEX_FILE);
        f.set('consolidated.safetensors', buildSafetensors(tinyLlamaTensors({ layers: 1 }).slice(0, 2)));
      }),
      [
        /^2 tensors are in more than one weight file \("model\.embed_tokens\.weight" in consolidated\.safetensors and model-00001-of-00002\.safetensors, .*\): the files come from different checkpoints$/,
      ],
    ],
    [
      'several problems at once',
      edit({ layers: 3, shards: 4 }, (f) => {
        f.delete('config.json');
        f.delete(shardName(1, 4));
        f.delete(shardName(4, 4));
      }),
      [/^missing config\.json/, /^missing shard model-00001-of-00004/, /^missing shard model-00004-of-00004/],
    ],
  ])('refuses %s, saying so', (_what, files, expected) => {
    const got = reasons(files);
    expect(got).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      if (typeof e === 'string') expect(got[i]).toBe(e);
      else expect(got[i]).toMatch(e);
    });
  });

  it('refuses a header that was not read, or read for another size', () => {
    const files = buildCheckpoint({ shards: 2 });
    const input = checkpointInputFromFiles(files);
    const headers = new Map(input.headers);
    headers.delete(shardName(1, 2));
    const other = input.files.map((f) => (f.path === shardName(2, 2) ? { ...f, size: f.size + 1 } : f));
    const result = verifyCheckpoint({ ...input, files: other, headers });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reasons).toEqual([
        'model-00001-of-00002.safetensors: its header was not read',
        expect.stringMatching(
          /^model-00002-of-00002\.safetensors: the header was checked against [\d,]+ bytes but the file has [\d,]+$/,
        ),
      ]);
    }
  });

  it('bounds the work on absurd shard counts in names', () => {
    const files = new Map([
      ['config.json', buildCheckpoint().get('config.json')!],
      ['model-00001-of-99999999.safetensors', buildSafetensors([{ name: 'w', dtype: 'U8', shape: [1] }])],
    ]);
    const got = reasons(files);
    expect(got).toHaveLength(6);
    expect(got[5]).toMatch(/^99,994 more shards of model-\*-of-99999999\.safetensors are missing$/);
  });
});

describe('weightFiles', () => {
  it('lists top-level .safetensors without an index, the referenced shards with one', () => {
    const files = [
      { path: 'b.safetensors', size: 1 },
      { path: 'a.safetensors', size: 1 },
      { path: 'sub/c.safetensors', size: 1 },
      { path: 'config.json', size: 1 },
    ];
    expect(weightFiles(files)).toEqual(['a.safetensors', 'b.safetensors']);
    expect(
      weightFiles(files, {
        weightMap: new Map([['t', 'b.safetensors']]),
        shards: ['b.safetensors', 'x.safetensors'],
      }),
    ).toEqual(['b.safetensors']);
  });
});
