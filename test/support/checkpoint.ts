import { createVersion, TestApp } from './app';

/** Uploads every file of an in-memory checkpoint into a new version with the streaming PUT. */
export async function uploadCheckpoint(
  t: TestApp,
  key: string,
  model: string,
  version: string,
  files: Map<string, Buffer>,
): Promise<void> {
  await createVersion(t, key, model, version);
  for (const [path, body] of files) {
    const r = await t.call('PUT', `/api/v1/models/${model}/versions/${version}/files/${path}`, { key, body });
    if (r.status !== 201) throw new Error(`upload ${path}: ${r.status} ${r.text}`);
  }
}

/** Finalizes a version and waits until verification decided (READY or FAILED). */
export async function finalizeAndWait(
  t: TestApp,
  key: string,
  model: string,
  version: string,
  timeoutMs = 20_000,
) {
  const f = await t.call('POST', `/api/v1/models/${model}/versions/${version}/finalize`, { key });
  if (f.status !== 202) throw new Error(`finalize: ${f.status} ${f.text}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await t.call('GET', `/api/v1/models/${model}/versions/${version}`, { key });
    if (v.body.state === 'READY' || v.body.state === 'FAILED') return v.body;
    if (Date.now() > deadline) throw new Error(`version still ${v.body.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Uploads a checkpoint into a new version, finalizes it and returns the version once verified. */
export async function uploadAndVerify(
  t: TestApp,
  key: string,
  model: string,
  version: string,
  files: Map<string, Buffer>,
) {
  await uploadCheckpoint(t, key, model, version, files);
  return finalizeAndWait(t, key, model, version);
}
