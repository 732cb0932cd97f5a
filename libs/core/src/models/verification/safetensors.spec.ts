import { describe, expect, it } from 'vitest';
import {
  headerLength,
  parseHeader,
  parseSafetensorsBuffer,
  parseSafetensorsHeader,
  SAFETENSORS_MAX_HEADER_BYTES,
} from './safetensors';
import { buildSafetensors, encodeSafetensorsHeader, TestTensor } from './test-checkpoint';
import { VerificationError } from './verification-error';

const FILE = 'model-00002-of-00004.safetensors';

/** A file whose JSON header is `header` (padded to 8) followed by `dataBytes` bytes. */
function rawFile(header: unknown, dataBytes: number, pad = true): Buffer {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const json = Buffer.from(text);
  const out = Buffer.alloc(8 + json.length + dataBytes);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  return out;
}

function failure(fn: () => unknown): VerificationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VerificationError) return err;
    throw err;
  }
  throw new Error('expected a VerificationError');
}

const tensors: TestTensor[] = [
  { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [32, 8] },
  { name: 'model.norm.weight', dtype: 'F32', shape: [8] },
  { name: 'scale', dtype: 'F8_E4M3', shape: [] },
  { name: 'empty', dtype: 'I64', shape: [0, 4] },
  { name: 'packed', dtype: 'F4', shape: [4, 2] },
];

describe('parseSafetensorsBuffer', () => {
  it('parses a valid file: tensors sorted by offset, counts and metadata', () => {
    const file = buildSafetensors(tensors, { format: 'pt' });
    const h = parseSafetensorsBuffer(file, FILE);
    expect(h.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
    expect(h.tensors[0]).toEqual({
      name: 'model.embed_tokens.weight',
      dtype: 'BF16',
      shape: [32, 8],
      dataOffsets: [0, 512],
    });
    expect(h.metadata).toEqual({ format: 'pt' });
    expect(h.parameterCount).toBe(256 + 8 + 1 + 0 + 8);
    expect(h.dataBytes).toBe(512 + 32 + 1 + 0 + 4);
    expect(h.dtypes).toEqual({ BF16: 256, F32: 8, F8_E4M3: 1, I64: 0, F4: 8 });
    expect(h.headerLength % 8).toBe(0);
    expect(h.fileSize).toBe(file.length);
  });

  it('accepts an empty file ({} header) and headers listed in any order', () => {
    expect(parseSafetensorsBuffer(rawFile({}, 0)).parameterCount).toBe(0);
    const h = parseSafetensorsBuffer(
      rawFile(
        {
          b: { dtype: 'U8', shape: [2], data_offsets: [4, 6] },
          a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
        },
        6,
        false,
      ),
    );
    expect(h.tensors.map((t) => t.name)).toEqual(['a', 'b']);
    expect(h.metadata).toBeUndefined();
  });

  const t = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

  it.each<[string, Buffer, RegExp | string]>([
    [
      'bad JSON',
      rawFile('{"a": {"dtype": "F32",', 0),
      /header is not valid JSON \(.*\): the file is corrupt/,
    ],
    ['a JSON array', rawFile([1, 2], 0), 'header should be a JSON object, not an array'],
    ['JSON null', rawFile('null', 0), 'header should be a JSON object, not null'],
    ['a JSON string', rawFile('"text"', 0), 'header should be a JSON object, not a string'],
    [
      'invalid UTF-8',
      (() => {
        const f = rawFile('{"a":1}', 0);
        f[9] = 0xff;
        return f;
      })(),
      /not valid UTF-8/,
    ],
    ['header length 0', Buffer.alloc(16), 'header length is 0: not a safetensors file'],
    ['a file shorter than 8 bytes', Buffer.alloc(5), /the file is 5 bytes, too short to be safetensors/],
    [
      'a header length larger than the file',
      (() => {
        const f = rawFile({}, 0);
        f.writeBigUInt64LE(1000n, 0);
        return f;
      })(),
      'truncated: header length says 1,000 bytes of JSON but the file has 8 after the 8-byte length',
    ],
    [
      'a header length over 100 MB',
      (() => {
        const f = Buffer.alloc(64);
        f.writeBigUInt64LE(BigInt(SAFETENSORS_MAX_HEADER_BYTES + 1), 0);
        return f;
      })(),
      /header length says 100,000,001 bytes, above the format's limit of 100,000,000/,
    ],
    [
      'a Git LFS pointer',
      Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n'),
      /Git LFS pointer, not the weights: fetch the real file/,
    ],
    ['a zip (PyTorch) checkpoint', Buffer.from('PK\u0003\u0004' + 'x'.repeat(60), 'latin1'), /zip archive/],
    [
      'an unknown dtype',
      rawFile({ w: t('F12', [2], [0, 4]) }, 4),
      /tensor "w" has unknown dtype "F12" \(known: BOOL, U8/,
    ],
    ['a missing dtype', rawFile({ w: { shape: [2], data_offsets: [0, 4] } }, 4), 'tensor "w" has no dtype'],
    [
      'shape × dtype not matching the offsets',
      rawFile({ w: t('BF16', [4, 8], [0, 60]) }, 60),
      'tensor "w" is BF16 with shape [4, 8], which takes 64 bytes, but its data_offsets [0, 60] span 60 bytes',
    ],
    ['a negative dimension', rawFile({ w: t('F32', [-1], [0, 4]) }, 4), /invalid shape \[-1\]/],
    ['a fractional dimension', rawFile({ w: t('F32', [1.5], [0, 4]) }, 4), /invalid shape \[1\.5\]/],
    ['offsets end before begin', rawFile({ w: t('U8', [0], [4, 0]) }, 0), /invalid data_offsets \[4,0\]/],
    ['three offsets', rawFile({ w: t('U8', [1], [0, 1, 2]) }, 1), /invalid data_offsets \[0,1,2\]/],
    [
      'a tensor that is not an object',
      rawFile({ w: 5 }, 0),
      /tensor "w" should be an object .* not a number 5/,
    ],
    ['sub-byte sizes', rawFile({ w: t('F4', [3], [0, 2]) }, 2), /12 bits is not a whole number of bytes/],
    [
      'overlapping offsets',
      rawFile({ a: t('U8', [8], [0, 8]), b: t('U8', [8], [4, 12]) }, 12),
      'tensors "a" (bytes 0-8) and "b" (bytes 4-12) overlap',
    ],
    [
      'a hole between tensors',
      rawFile({ a: t('U8', [8], [0, 8]), b: t('U8', [8], [16, 24]) }, 24),
      '8 bytes of the data buffer (bytes 8-16) belong to no tensor, before "b"',
    ],
    [
      'a hole at the start',
      rawFile({ a: t('U8', [8], [4, 12]) }, 12),
      /4 bytes .* \(bytes 0-4\) belong to no tensor/,
    ],
    [
      'a truncated file',
      rawFile({ a: t('U8', [100], [0, 100]) }, 60),
      'truncated: header says 100 bytes of tensor data but the file has 60 after the header',
    ],
    [
      'a padded file',
      rawFile({ a: t('U8', [100], [0, 100]) }, 108),
      '8 unexpected bytes after the tensor data: header says 100 bytes of tensor data but the file has 108 after the header (padded or corrupt)',
    ],
    [
      'non-string metadata',
      rawFile({ __metadata__: { step: 5 }, a: t('U8', [1], [0, 1]) }, 1),
      '__metadata__ should map strings to strings, but "step" is a number 5',
    ],
  ])('refuses %s', (_what, file, expected) => {
    const err = failure(() => parseSafetensorsBuffer(file, FILE));
    expect(err.file).toBe(FILE);
    expect(err.message.startsWith(`${FILE}: `)).toBe(true);
    if (typeof expected === 'string') expect(err.message).toBe(`${FILE}: ${expected}`);
    else expect(err.message).toMatch(expected);
  });
});

describe('two-step parsing (first 8 bytes, then the header, against the object size)', () => {
  it('checks a 4 GiB shard without its data, and says by how much it is truncated', () => {
    const { header, dataBytes } = encodeSafetensorsHeader([
      { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'BF16', shape: [65536, 32768] },
    ]);
    expect(dataBytes).toBe(4 * 1024 ** 3);
    const n = headerLength(header.subarray(0, 8), header.length + dataBytes, FILE);
    expect(n).toBe(header.length - 8);
    const ok = parseHeader(header.subarray(8), header.length + dataBytes, n, FILE);
    expect(ok.parameterCount).toBe(65536 * 32768);
    expect(ok.dataBytes).toBe(dataBytes);

    const err = failure(() =>
      parseSafetensorsHeader(header.subarray(0, 8), header.subarray(8), header.length + 1024 ** 3, FILE),
    );
    expect(err.message).toBe(
      `${FILE}: truncated: header says 4,294,967,296 bytes of tensor data but the file has 1,073,741,824 after the header`,
    );
  });

  it('refuses a header read short', () => {
    const file = buildSafetensors(tensors);
    const n = headerLength(file.subarray(0, 8), file.length, FILE);
    expect(() => parseHeader(file.subarray(8, 8 + n - 3), file.length, n, FILE)).toThrow(
      /truncated: could read only .* of the .* header bytes/,
    );
  });
});
