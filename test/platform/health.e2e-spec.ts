import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TestApp } from '../support/app';

describe('health, metrics, docs and error format', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ API_BODY_LIMIT_BYTES: '4096' });
  });
  afterAll(() => t.close());

  it('answers /healthz without a key', async () => {
    const r = await t.call('GET', '/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('answers /readyz with each dependency checked', async () => {
    const r = await t.call('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', redis: 'ok', kubernetes: 'not configured', objectStorage: 'not configured' },
    });
  });

  it('exports Prometheus metrics with process metrics and the HTTP histogram by route', async () => {
    await t.call('GET', '/healthz');
    const r = await t.call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.text).toContain('troupe_process_cpu_user_seconds_total');
    expect(r.text).toMatch(
      /troupe_http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} [1-9]/,
    );
  });

  it('puts a request id on every response, keeping a well-formed one from the caller', async () => {
    const generated = await t.call('GET', '/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.call('GET', '/healthz', { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-abc.123');
    const replaced = await t.call('GET', '/healthz', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(replaced.headers.get('x-request-id')).not.toContain(' ');
  });

  it('serves the OpenAPI document and its UI', async () => {
    const doc = await t.call('GET', '/api/docs/json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/projects', '/api/v1/api-keys', '/api/v1/api-keys/{id}']),
    );
    expect(doc.body.components.securitySchemes.bearer).toBeDefined();
    const ui = await t.call('GET', '/api/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });

  it('answers unknown routes with the error format and the request id', async () => {
    const r = await t.call('GET', '/api/v1/nope', { key: t.adminKey });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
    expect(r.body.error.requestId).toBe(r.headers.get('x-request-id'));
  });

  it('answers invalid JSON with 400 invalid_json', async () => {
    const r = await t.call('POST', '/api/v1/projects', { key: t.adminKey, body: '{"name":' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_json');
  });

  it('answers a body over the limit with 413', async () => {
    const r = await t.call('POST', '/api/v1/projects', {
      key: t.adminKey,
      body: { name: 'x', displayName: 'y'.repeat(5000) },
    });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
  });
});
