import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckpoint, buildSafetensors, INDEX_FILE } from '../../libs/core/src/models/verification';
import { createProject, startTestApp, TestApp } from '../support/app';
import { finalizeAndWait, uploadCheckpoint } from '../support/checkpoint';
import { startTestS3, TestS3 } from '../support/s3';

describe('model version verification', () => {
  let s3: TestS3;
  let t: TestApp;
  let member: string;
  const model = 'tiny';

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestApp(s3.env);
    member = (await createProject(t, 'v', ['member'])).keys.member.key;
    await t.call('POST', '/api/v1/models', { key: member, body: { name: model } });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  it('marks a complete sharded checkpoint READY with what it read', async () => {
    const files = buildCheckpoint({ layers: 4, hidden: 64, shards: 3 });
    await uploadCheckpoint(t, member, model, 'good', files);
    const v = await finalizeAndWait(t, member, model, 'good');
    expect(v.state).toBe('READY');
    expect(v.failureReason).toBeNull();
    expect(v.metadata).toMatchObject({
      architecture: 'LlamaForCausalLM',
      numLayers: 4,
      hiddenSize: 64,
      shardCount: 3,
    });
    expect(v.metadata.parameterCount).toBeGreaterThan(0);
    expect(v.metadata.weightBytes).toBeGreaterThan(v.metadata.parameterCount);
    expect(v.files).toHaveLength(files.size);

    // READY is immutable
    const put = await t.call('PUT', `/api/v1/models/${model}/versions/good/files/extra.txt`, {
      key: member,
      body: Buffer.from('x'),
    });
    expect(put.status).toBe(409);
    expect(put.body.error.message).toMatch(/immutable/);
    const again = await t.call('POST', `/api/v1/models/${model}/versions/good/finalize`, { key: member });
    expect(again.status).toBe(409);
  });

  it.each([
    [
      'a corrupt header',
      (files: Map<string, Buffer>) => {
        const shard = [...files.keys()].find((p) => p.endsWith('.safetensors'))!;
        const bad = Buffer.from(files.get(shard)!);
        bad.write('{"not json', 8);
        files.set(shard, bad);
      },
      /safetensors/,
    ],
    [
      'a truncated shard',
      (files: Map<string, Buffer>) => {
        const shard = [...files.keys()].filter((p) => p.endsWith('.safetensors'))[1];
        files.set(shard, files.get(shard)!.subarray(0, files.get(shard)!.length - 100));
      },
      /truncated|bytes/,
    ],
    [
      'a missing shard',
      (files: Map<string, Buffer>) => {
        const shard = [...files.keys()].filter((p) => p.endsWith('.safetensors'))[2];
        files.delete(shard);
      },
      /missing shard|not uploaded|missing/,
    ],
    ['a missing config.json', (files: Map<string, Buffer>) => files.delete('config.json'), /config\.json/],
  ])('marks a checkpoint with %s FAILED with a reason', async (_, damage, reason) => {
    const files = buildCheckpoint({ layers: 4, hidden: 64, shards: 3 });
    damage(files);
    const version = `bad-${randomBytes(3).toString('hex')}`;
    await uploadCheckpoint(t, member, model, version, files);
    const v = await finalizeAndWait(t, member, model, version);
    expect(v.state).toBe('FAILED');
    expect(v.failureReason).toMatch(reason);
    expect(v.metadata).toBeNull();
  });

  it('a FAILED version can be fixed and finalized again', async () => {
    const files = buildCheckpoint({ layers: 2, hidden: 32, shards: 2 });
    const shards = [...files.keys()].filter((p) => p.endsWith('.safetensors'));
    const missing = shards[1];
    const content = files.get(missing)!;
    files.delete(missing);
    await uploadCheckpoint(t, member, model, 'fixme', files);
    expect((await finalizeAndWait(t, member, model, 'fixme')).state).toBe('FAILED');
    const put = await t.call('PUT', `/api/v1/models/${model}/versions/fixme/files/${missing}`, {
      key: member,
      body: content,
    });
    expect(put.status).toBe(201);
    expect((await finalizeAndWait(t, member, model, 'fixme')).state).toBe('READY');
  });

  it('refuses to finalize an empty version or one with uploads still open', async () => {
    await t.call('POST', `/api/v1/models/${model}/versions`, { key: member, body: { version: 'empty' } });
    expect(
      (await t.call('POST', `/api/v1/models/${model}/versions/empty/finalize`, { key: member })).status,
    ).toBe(409);
    await t.call('PUT', `/api/v1/models/${model}/versions/empty/files/config.json`, {
      key: member,
      body: Buffer.from('{}'),
    });
    const s = await t.call('POST', `/api/v1/models/${model}/versions/empty/uploads`, {
      key: member,
      body: { path: 'w.safetensors', size: 10 },
    });
    const r = await t.call('POST', `/api/v1/models/${model}/versions/empty/finalize`, { key: member });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/still open/);
    await t.call('DELETE', `/api/v1/uploads/${s.body.uploadId}`, { key: member });
  });

  it('a single-file checkpoint without an index is READY', async () => {
    const files = new Map<string, Buffer>([
      ['config.json', buildCheckpoint({ layers: 1, hidden: 16, shards: 1 }).get('config.json')!],
      ['model.safetensors', buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [4, 4] }])],
    ]);
    expect(files.has(INDEX_FILE)).toBe(false);
    await uploadCheckpoint(t, member, model, 'single', files);
    const v = await finalizeAndWait(t, member, model, 'single');
    expect(v.state).toBe('READY');
    expect(v.metadata.parameterCount).toBe(16);
  });

  it('deleting a version removes its stored objects', async () => {
    const files = buildCheckpoint({ layers: 1, hidden: 16, shards: 1 });
    await uploadCheckpoint(t, member, model, 'doomed', files);
    const prefix = (await t.call('GET', `/api/v1/models/${model}/versions/doomed`, { key: member })).body
      .storagePrefix;
    expect(await s3.read(`${prefix}config.json`)).not.toBeNull();
    expect((await t.call('DELETE', `/api/v1/models/${model}/versions/doomed`, { key: member })).status).toBe(
      204,
    );
    expect(await s3.read(`${prefix}config.json`)).toBeNull();
    expect((await t.call('GET', `/api/v1/models/${model}/versions/doomed`, { key: member })).status).toBe(
      404,
    );
  });
});
