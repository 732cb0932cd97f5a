import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVersion, startTestApp, TestApp } from '../support/app';
import { startTestS3, TestS3 } from '../support/s3';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const unique = (p: string) => `${p}-${randomBytes(3).toString('hex')}`;

describe('model registry and uploads', () => {
  let s3: TestS3;
  let t: TestApp;
  let project: { id: string };
  let member: string;
  let otherMember: string;
  let inference: string;
  const model = 'llama-tiny';
  const limits = {
    UPLOAD_PART_BYTES: String(5 * MiB),
    UPLOAD_MAX_FILE_BYTES: String(30 * MiB),
    UPLOAD_MAX_VERSION_BYTES: String(64 * MiB),
  };

  const put = (path: string, body: Buffer, headers: Record<string, string> = {}, version = 'v1') =>
    t.call('PUT', `/api/v1/models/${model}/versions/${version}/files/${path}`, {
      key: member,
      body: body,
      headers: { 'content-type': 'application/octet-stream', ...headers },
    });
  /** A PUT sent as written: fetch would resolve "%2E%2E" segments before sending. */
  const rawPut = (urlPath: string, body: Buffer) =>
    new Promise<{ status: number; body: { error: { issues: { field: string; message: string }[] } } }>(
      (resolve, reject) => {
        const { hostname, port } = new URL(t.url);
        // options.path is sent as written (a URL string would be normalised first)
        const req = request({
          hostname,
          port,
          path: urlPath,
          method: 'PUT',
          headers: {
            authorization: `Bearer ${member}`,
            'content-type': 'application/octet-stream',
            'content-length': body.length,
          },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(body);
      },
    );
  const key = (version: string, path: string) => `${project.id}/${model}/${version}/${path}`;

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestApp({ ...s3.env, ...limits });
    project = (await t.call('POST', '/api/v1/projects', { key: t.adminKey, body: { name: unique('ml') } }))
      .body;
    const other = (
      await t.call('POST', '/api/v1/projects', { key: t.adminKey, body: { name: unique('other') } })
    ).body;
    const mk = async (role: string, projectId: string) =>
      (await t.call('POST', '/api/v1/api-keys', { key: t.adminKey, body: { name: role, role, projectId } }))
        .body.key as string;
    member = await mk('member', project.id);
    otherMember = await mk('member', other.id);
    inference = await mk('inference', project.id);
    expect(
      (await t.call('POST', '/api/v1/models', { key: member, body: { name: model, description: 'tiny' } }))
        .status,
    ).toBe(201);
    expect(
      (await t.call('POST', `/api/v1/models/${model}/versions`, { key: member, body: { version: 'v1' } }))
        .status,
    ).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  it('/readyz reports object storage', async () => {
    const r = await t.call('GET', '/readyz');
    expect(r.body).toMatchObject({ status: 'ready', checks: { objectStorage: 'ok' } });
  });

  describe('models and versions', () => {
    it('lists, shows and refuses duplicates', async () => {
      expect((await t.call('POST', '/api/v1/models', { key: member, body: { name: model } })).status).toBe(
        409,
      );
      expect(
        (await t.call('POST', `/api/v1/models/${model}/versions`, { key: member, body: { version: 'v1' } }))
          .status,
      ).toBe(409);
      const list = await t.call('GET', '/api/v1/models', { key: member });
      expect(list.body.data.map((m: { name: string }) => m.name)).toContain(model);
      const v = await t.call('GET', `/api/v1/models/${model}/versions/v1`, { key: member });
      expect(v.body).toMatchObject({
        version: 'v1',
        state: 'UPLOADING',
        storagePrefix: `${project.id}/${model}/v1/`,
      });
    });

    it('validates names', async () => {
      const bad = await t.call('POST', '/api/v1/models', { key: member, body: { name: 'Bad Name' } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues[0].field).toBe('name');
      const badV = await t.call('POST', `/api/v1/models/${model}/versions`, {
        key: member,
        body: { version: '../v' },
      });
      expect(badV.status).toBe(400);
    });

    it('admins must name the project', async () => {
      const r = await t.call('POST', '/api/v1/models', { key: t.adminKey, body: { name: unique('m') } });
      expect(r.status).toBe(400);
      expect(r.body.error.issues[0].field).toBe('projectId');
      const ok = await t.call('POST', '/api/v1/models', {
        key: t.adminKey,
        body: { name: unique('m'), projectId: project.id },
      });
      expect(ok.status).toBe(201);
      expect(
        (await t.call('GET', `/api/v1/models/${ok.body.name}?projectId=${project.id}`, { key: t.adminKey }))
          .status,
      ).toBe(200);
    });

    it("another project's models answer 404; inference keys cannot upload (403)", async () => {
      expect((await t.call('GET', `/api/v1/models/${model}`, { key: otherMember })).status).toBe(404);
      expect(
        (await t.call('GET', `/api/v1/models/${model}?projectId=${project.id}`, { key: otherMember })).status,
      ).toBe(404);
      const cross = await t.call('PUT', `/api/v1/models/${model}/versions/v1/files/x.json`, {
        key: otherMember,
        body: '{}',
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(cross.status).toBe(404);
      const inf = await t.call('PUT', `/api/v1/models/${model}/versions/v1/files/x.json`, {
        key: inference,
        body: '{}',
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(inf.status).toBe(403);
    });
  });

  describe('streaming upload of one file', () => {
    it('stores a small file with and without a checksum', async () => {
      const body = Buffer.from(JSON.stringify({ architectures: ['LlamaForCausalLM'] }));
      const r = await put('config.json', body);
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ path: 'config.json', size: body.length, sha256: sha(body) });
      expect(await s3.read(key('v1', 'config.json'))).toEqual(body);
      const nested = Buffer.from('{"vocab":{}}');
      const r2 = await put('tokenizer/vocab.json', nested, { 'x-content-sha256': sha(nested) });
      expect(r2.status).toBe(201);
      expect(await s3.read(key('v1', 'tokenizer/vocab.json'))).toEqual(nested);
    });

    it('streams a multi-part file (12 MiB in 5 MiB parts) byte for byte', async () => {
      const body = randomBytes(12 * MiB + 123);
      const r = await put('model-00001-of-00001.safetensors', body, { 'x-content-sha256': sha(body) });
      expect(r.status).toBe(201);
      expect(r.body.sha256).toBe(sha(body));
      const stored = await s3.read(key('v1', 'model-00001-of-00001.safetensors'));
      expect(stored?.length).toBe(body.length);
      expect(sha(stored!)).toBe(sha(body));
      const v = await t.call('GET', `/api/v1/models/${model}/versions/v1`, { key: member });
      expect(v.body.files).toContainEqual({
        path: 'model-00001-of-00001.safetensors',
        size: body.length,
        sha256: sha(body),
      });
    });

    it('keeps nothing when the checksum does not match, and leaves an existing file intact', async () => {
      const body = randomBytes(7 * MiB);
      const wrong = sha(Buffer.from('something else'));
      const r = await put('bad.bin', body, { 'x-content-sha256': wrong });
      expect(r.status).toBe(400);
      expect(r.body.error.issues[0]).toMatchObject({ field: 'x-content-sha256' });
      expect(r.body.error.message).toMatch(/checksum mismatch/);
      expect(await s3.read(key('v1', 'bad.bin'))).toBeNull();

      const original = Buffer.from('original');
      expect((await put('keep.txt', original)).status).toBe(201);
      expect((await put('keep.txt', Buffer.from('replacement'), { 'x-content-sha256': wrong })).status).toBe(
        400,
      );
      expect(await s3.read(key('v1', 'keep.txt'))).toEqual(original);
      const v = await t.call('GET', `/api/v1/models/${model}/versions/v1`, { key: member });
      expect(v.body.files.map((f: { path: string }) => f.path)).not.toContain('bad.bin');
      expect(v.body.files.find((f: { path: string }) => f.path === 'keep.txt').sha256).toBe(sha(original));
    });

    it('refuses malformed checksums', async () => {
      const r = await put('c.txt', Buffer.from('x'), { 'x-content-sha256': 'abc' });
      expect(r.status).toBe(400);
    });

    it.each([
      ['%2E%2E/%2E%2E/etc/passwd', /"\." or "\.\."/],
      ['a/%2E%2E/b', /"\." or "\.\."/],
      ['a%00b', /control/],
      ['a%5Cb', /separator/],
      ['a//b', /empty/],
    ])('refuses the path %s', async (p, pattern) => {
      const r = await rawPut(`/api/v1/models/${model}/versions/v1/files/${p}`, Buffer.from('x'));
      expect(r.status).toBe(400);
      expect(r.body.error.issues[0].field).toBe('path');
      expect(r.body.error.issues[0].message).toMatch(pattern);
    });

    it('answers 413 for a file over the limit, announced or streamed, and keeps nothing', async () => {
      const big = randomBytes(31 * MiB);
      const announced = await put('big.bin', big);
      expect(announced.status).toBe(413);
      // Chunked body without a content-length: the limit is enforced while streaming.
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${t.url}/api/v1/models/${model}/versions/v1/files/big2.bin`, {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${member}`,
            'content-type': 'application/octet-stream',
            'transfer-encoding': 'chunked',
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (err) =>
          String(err).includes('EPIPE') || String(err).includes('ECONNRESET') ? undefined : reject(err),
        );
        let sent = 0;
        const pump = () => {
          while (sent < 40 * MiB) {
            sent += MiB;
            if (!req.write(randomBytes(MiB))) return req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      expect(status).toBe(413);
      expect(await s3.read(key('v1', 'big.bin'))).toBeNull();
      expect(await s3.read(key('v1', 'big2.bin'))).toBeNull();
    });

    it('answers 413 when the version would go over its limit', async () => {
      await t.call('POST', `/api/v1/models/${model}/versions`, { key: member, body: { version: 'full' } });
      expect((await put('a.bin', randomBytes(25 * MiB), {}, 'full')).status).toBe(201);
      expect((await put('b.bin', randomBytes(25 * MiB), {}, 'full')).status).toBe(201);
      const over = await put('c.bin', randomBytes(20 * MiB), {}, 'full');
      expect(over.status).toBe(413);
      expect(over.body.error.message).toMatch(/version/);
      // replacing a file counts the new size, not both
      expect((await put('b.bin', randomBytes(20 * MiB), {}, 'full')).status).toBe(201);
    });

    it('asks for a raw body', async () => {
      const r = await t.call('PUT', `/api/v1/models/${model}/versions/v1/files/x.json`, {
        key: member,
        body: { a: 1 },
      });
      expect(r.status).toBe(415);
    });
  });

  describe('resumable sessions', () => {
    const size = 12 * MiB + 7;
    const file = randomBytes(size);
    const part = (n: number) => file.subarray((n - 1) * 5 * MiB, Math.min(n * 5 * MiB, size));
    const putPart = (
      app: TestApp,
      id: string,
      n: number,
      body: Buffer,
      headers: Record<string, string> = {},
    ) =>
      app.call('PUT', `/api/v1/uploads/${id}/parts/${n}`, {
        key: member,
        body: body,
        headers: { 'content-type': 'application/octet-stream', ...headers },
      });
    beforeAll(async () => {
      expect(
        (
          await t.call('POST', `/api/v1/models/${model}/versions`, {
            key: member,
            body: { version: 'sessions' },
          })
        ).status,
      ).toBe(201);
    });
    const start = async (path: string, extra: Record<string, unknown> = {}) => {
      const r = await t.call('POST', `/api/v1/models/${model}/versions/sessions/uploads`, {
        key: member,
        body: { path, size, ...extra },
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ partSize: 5 * MiB, partCount: 3 });
      return r.body.uploadId as string;
    };

    it('accepts parts out of order, in parallel and retried, then assembles the file', async () => {
      const id = await start('shards/model-00002.safetensors', { sha256: sha(file) });
      const wrongPart = await putPart(t, id, 2, part(2), { 'x-content-sha256': sha(Buffer.from('x')) });
      expect(wrongPart.status).toBe(400);
      const results = await Promise.all([putPart(t, id, 3, part(3)), putPart(t, id, 1, part(1))]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      expect((await putPart(t, id, 2, part(2), { 'x-content-sha256': sha(part(2)) })).status).toBe(200);
      expect((await putPart(t, id, 2, part(2))).status).toBe(200); // retried
      const shortPart = await putPart(t, id, 1, part(1).subarray(1));
      expect(shortPart.status).toBe(400);

      const session = await t.call('GET', `/api/v1/uploads/${id}`, { key: member });
      expect(
        session.body.parts.map((p: { partNumber: number; size: number }) => [p.partNumber, p.size]),
      ).toEqual([
        [1, 5 * MiB],
        [2, 5 * MiB],
        [3, 2 * MiB + 7],
      ]);
      const done = await t.call('POST', `/api/v1/uploads/${id}/complete`, { key: member });
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ path: 'shards/model-00002.safetensors', size, sha256: sha(file) });
      expect(done.body.hashedInStream + done.body.rehashedFromStorage).toBe(size);
      expect(sha((await s3.read(key('sessions', 'shards/model-00002.safetensors')))!)).toBe(sha(file));
      // completing again is harmless
      expect((await t.call('POST', `/api/v1/uploads/${id}/complete`, { key: member })).body.sha256).toBe(
        sha(file),
      );
    });

    it('hashes parts sent in order as they stream, reading nothing back', async () => {
      const id = await start('in-order.bin');
      for (const n of [1, 2, 3]) expect((await putPart(t, id, n, part(n))).status).toBe(200);
      const done = await t.call('POST', `/api/v1/uploads/${id}/complete`, { key: member });
      expect(done.body).toMatchObject({ sha256: sha(file), hashedInStream: size, rehashedFromStorage: 0 });
    });

    it('hashes parts sent in parallel without reading them back (held in memory until their turn)', async () => {
      const id = await start('parallel.bin');
      const results = await Promise.all([3, 2, 1].map((n) => putPart(t, id, n, part(n))));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
      const done = await t.call('POST', `/api/v1/uploads/${id}/complete`, { key: member });
      expect(done.body).toMatchObject({ sha256: sha(file), hashedInStream: size, rehashedFromStorage: 0 });
    });

    it('refuses to complete with parts missing, naming them', async () => {
      const id = await start('partial.bin');
      await putPart(t, id, 2, part(2));
      const r = await t.call('POST', `/api/v1/uploads/${id}/complete`, { key: member });
      expect(r.status).toBe(409);
      expect(r.body.error.message).toMatch(/1, 3 of 3/);
      expect((await t.call('DELETE', `/api/v1/uploads/${id}`, { key: member })).status).toBe(204);
    });

    it('survives a server restart: the session and its parts are in PostgreSQL', async () => {
      const id = await start('resumed.bin');
      expect((await putPart(t, id, 1, part(1))).status).toBe(200);
      await t.close();
      t = await startTestApp({
        ...s3.env,
        ...limits,
        DATABASE_URL: t.config.database.url,
        TROUPE_ADMIN_KEY: t.adminKey,
      });
      const session = await t.call('GET', `/api/v1/uploads/${id}`, { key: member });
      expect(session.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1]);
      for (const n of [2, 3]) expect((await putPart(t, id, n, part(n))).status).toBe(200);
      const done = await t.call('POST', `/api/v1/uploads/${id}/complete`, { key: member });
      expect(done.status).toBe(200);
      expect(done.body.sha256).toBe(sha(file));
    });

    it('aborts: the session closes and takes no more parts', async () => {
      const id = await start('aborted.bin');
      await putPart(t, id, 1, part(1));
      expect((await t.call('DELETE', `/api/v1/uploads/${id}`, { key: member })).status).toBe(204);
      expect((await t.call('GET', `/api/v1/uploads/${id}`, { key: member })).body.state).toBe('ABORTED');
      expect((await putPart(t, id, 2, part(2))).status).toBe(409);
      expect(await s3.read(key('sessions', 'aborted.bin'))).toBeNull();
    });

    it('a whole-file checksum mismatch at completion keeps nothing', async () => {
      const id = await start('liar.bin', { sha256: sha(Buffer.from('not this')) });
      for (const n of [1, 2, 3]) await putPart(t, id, n, part(n));
      const r = await t.call('POST', `/api/v1/uploads/${id}/complete`, { key: member });
      expect(r.status).toBe(400);
      expect(await s3.read(key('sessions', 'liar.bin'))).toBeNull();
      const v = await t.call('GET', `/api/v1/models/${model}/versions/sessions`, { key: member });
      expect(v.body.files.map((f: { path: string }) => f.path)).not.toContain('liar.bin');
    });

    it("another project's sessions answer 404", async () => {
      const id = await start('private.bin');
      expect((await t.call('GET', `/api/v1/uploads/${id}`, { key: otherMember })).status).toBe(404);
      const p = await t.call('PUT', `/api/v1/uploads/${id}/parts/1`, {
        key: otherMember,
        body: part(1),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(p.status).toBe(404);
      expect((await t.call('DELETE', `/api/v1/uploads/${id}`, { key: otherMember })).status).toBe(404);
      expect((await t.call('DELETE', `/api/v1/uploads/${id}`, { key: member })).status).toBe(204);
    });

    it('counts bytes, results and how the whole-file sha256 was computed in /metrics', async () => {
      const metric = async (name: string, labels: string) => {
        const text = (await t.call('GET', '/metrics')).text;
        const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
        return line ? Number(line.split(' ').pop()) : 0;
      };
      const before = {
        bytes: await metric('troupe_upload_bytes_total', 'kind="part"'),
        ok: await metric('troupe_upload_requests_total', 'kind="part",result="ok"'),
        refused: await metric('troupe_upload_requests_total', 'kind="part",result="refused"'),
        stream: await metric('troupe_upload_sha256_bytes_total', 'how="stream"'),
      };
      // A version of its own: the file counts against the version size limit of the others.
      await createVersion(t, member, model, 'metered');
      const opened = await t.call('POST', `/api/v1/models/${model}/versions/metered/uploads`, {
        key: member,
        body: { path: 'metered.bin', size },
      });
      const id = opened.body.uploadId as string;
      expect(await putPart(t, id, 2, Buffer.alloc(3))).toMatchObject({ status: 400 }); // wrong length
      for (const n of [1, 2, 3]) expect((await putPart(t, id, n, part(n))).status).toBe(200);
      expect((await t.call('POST', `/api/v1/uploads/${id}/complete`, { key: member })).status).toBe(200);
      expect(await metric('troupe_upload_bytes_total', 'kind="part"')).toBe(before.bytes + size);
      expect(await metric('troupe_upload_requests_total', 'kind="part",result="ok"')).toBe(before.ok + 3);
      expect(await metric('troupe_upload_requests_total', 'kind="part",result="refused"')).toBe(
        before.refused + 1,
      );
      expect(await metric('troupe_upload_sha256_bytes_total', 'how="stream"')).toBe(before.stream + size);
      expect(await metric('troupe_upload_hash_held_bytes', '')).toBe(0);
    });

    it('validates session requests', async () => {
      const tooBig = await t.call('POST', `/api/v1/models/${model}/versions/sessions/uploads`, {
        key: member,
        body: { path: 'x', size: 31 * MiB },
      });
      expect(tooBig.status).toBe(413);
      const badPath = await t.call('POST', `/api/v1/models/${model}/versions/sessions/uploads`, {
        key: member,
        body: { path: '../x', size: 1 },
      });
      expect(badPath.status).toBe(400);
      const id = await start('range.bin');
      expect((await putPart(t, id, 4, Buffer.alloc(1))).status).toBe(400);
      expect((await putPart(t, id, 0, Buffer.alloc(1))).status).toBe(400);
    });
  });
});
