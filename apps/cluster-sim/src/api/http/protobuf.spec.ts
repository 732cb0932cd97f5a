import { describe, expect, it } from 'vitest';
import { decodeProtobufObject, ProtobufError } from './protobuf';

// Minimal protobuf encoder for the test (length-delimited fields only).
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
};
const field = (num: number, bytes: Buffer | string): Buffer => {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return Buffer.concat([Buffer.from([...varint((num << 3) | 2), ...varint(b.length)]), b]);
};
const envelope = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from('k8s\0', 'binary'),
    field(1, Buffer.concat([field(1, apiVersion), field(2, kind)])),
    field(2, raw),
  ]);

describe('decodeProtobufObject', () => {
  it('decodes a ConfigMap as kubectl create configmap sends it', () => {
    const meta = Buffer.concat([
      field(1, 'cfg'),
      field(3, 'ns'),
      field(11, Buffer.concat([field(1, 'app'), field(2, 'web')])),
    ]);
    const raw = Buffer.concat([field(1, meta), field(2, Buffer.concat([field(1, 'a'), field(2, '1')]))]);
    expect(decodeProtobufObject(envelope('v1', 'ConfigMap', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', namespace: 'ns', labels: { app: 'web' } },
      data: { a: '1' },
    });
  });

  it('base64-encodes Secret data and refuses unknown kinds', () => {
    const raw = Buffer.concat([
      field(1, field(1, 's')),
      field(2, Buffer.concat([field(1, 'token'), field(2, 'abc')])),
      field(3, 'Opaque'),
    ]);
    expect(decodeProtobufObject(envelope('v1', 'Secret', raw))).toMatchObject({
      data: { token: 'YWJj' },
      type: 'Opaque',
    });
    expect(() => decodeProtobufObject(envelope('apps/v1', 'Deployment', Buffer.alloc(0)))).toThrow(
      ProtobufError,
    );
    expect(() => decodeProtobufObject(Buffer.from('{}'))).toThrow(ProtobufError);
  });
});
