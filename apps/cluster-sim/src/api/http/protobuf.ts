// Decoding of the Kubernetes protobuf request bodies kubectl sends for a few built-in kinds
// (`kubectl create namespace|configmap|secret`): the "k8s\0" envelope (runtime.Unknown) and the
// fields of Namespace, ConfigMap, Secret and ObjectMeta that matter. Other kinds answer 415.

type Kind = 'string' | 'bytes' | 'int' | 'bool' | 'message' | 'map-string' | 'map-bytes' | 'strings';

interface Field {
  name: string;
  kind: Kind;
  message?: Message;
}

type Message = Record<number, Field>;

const OBJECT_META: Message = {
  1: { name: 'name', kind: 'string' },
  2: { name: 'generateName', kind: 'string' },
  3: { name: 'namespace', kind: 'string' },
  11: { name: 'labels', kind: 'map-string' },
  12: { name: 'annotations', kind: 'map-string' },
  14: { name: 'finalizers', kind: 'strings' },
};

const KINDS: Record<string, Message> = {
  Namespace: {
    1: { name: 'metadata', kind: 'message', message: OBJECT_META },
    2: { name: 'spec', kind: 'message', message: { 1: { name: 'finalizers', kind: 'strings' } } },
  },
  ConfigMap: {
    1: { name: 'metadata', kind: 'message', message: OBJECT_META },
    2: { name: 'data', kind: 'map-string' },
    3: { name: 'binaryData', kind: 'map-bytes' },
    4: { name: 'immutable', kind: 'bool' },
  },
  Secret: {
    1: { name: 'metadata', kind: 'message', message: OBJECT_META },
    2: { name: 'data', kind: 'map-bytes' },
    3: { name: 'type', kind: 'string' },
    4: { name: 'stringData', kind: 'map-string' },
    5: { name: 'immutable', kind: 'bool' },
  },
};

export class ProtobufError extends Error {}

interface Raw {
  field: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readVarint(buf: Buffer, pos: { i: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos.i >= buf.length) throw new ProtobufError('truncated varint');
    const b = buf[pos.i++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
  }
}

function readFields(buf: Buffer): Raw[] {
  const out: Raw[] = [];
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const key = Number(readVarint(buf, pos));
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, varint: readVarint(buf, pos) });
    else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      out.push({ field, bytes: buf.subarray(pos.i, pos.i + len) });
      pos.i += len;
    } else if (wire === 1) pos.i += 8;
    else if (wire === 5) pos.i += 4;
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
  return out;
}

function decodeMessage(buf: Buffer, spec: Message): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const f of readFields(buf)) {
    const s = spec[f.field];
    if (!s) continue;
    switch (s.kind) {
      case 'string':
        obj[s.name] = f.bytes?.toString('utf8') ?? '';
        break;
      case 'bytes':
        obj[s.name] = f.bytes?.toString('base64') ?? '';
        break;
      case 'int':
        obj[s.name] = Number(f.varint ?? 0n);
        break;
      case 'bool':
        obj[s.name] = f.varint === 1n;
        break;
      case 'strings':
        obj[s.name] = [...((obj[s.name] as string[] | undefined) ?? []), f.bytes?.toString('utf8') ?? ''];
        break;
      case 'message':
        obj[s.name] = decodeMessage(f.bytes ?? Buffer.alloc(0), s.message ?? {});
        break;
      case 'map-string':
      case 'map-bytes': {
        const entry = readFields(f.bytes ?? Buffer.alloc(0));
        const key = entry.find((e) => e.field === 1)?.bytes?.toString('utf8') ?? '';
        const value = entry.find((e) => e.field === 2)?.bytes ?? Buffer.alloc(0);
        const map = (obj[s.name] as Record<string, string> | undefined) ?? {};
        map[key] = s.kind === 'map-string' ? value.toString('utf8') : value.toString('base64');
        obj[s.name] = map;
        break;
      }
    }
  }
  return obj;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a protobuf request body into the JSON object it stands for. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw new ProtobufError('missing the k8s protobuf envelope');
  const unknown = readFields(body.subarray(4));
  const typeMeta = readFields(unknown.find((f) => f.field === 1)?.bytes ?? Buffer.alloc(0));
  const apiVersion = typeMeta.find((f) => f.field === 1)?.bytes?.toString('utf8') ?? '';
  const kind = typeMeta.find((f) => f.field === 2)?.bytes?.toString('utf8') ?? '';
  const raw = unknown.find((f) => f.field === 2)?.bytes ?? Buffer.alloc(0);
  const spec = KINDS[kind];
  if (!spec || apiVersion !== 'v1')
    throw new ProtobufError(`protobuf bodies are not supported for ${apiVersion}/${kind}`);
  return { apiVersion, kind, ...decodeMessage(raw, spec) };
}
