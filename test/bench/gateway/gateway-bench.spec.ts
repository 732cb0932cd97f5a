import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { areaOf, summarizeCpuProfile } from './cpuprofile';
import { nginxConf } from './nginx';
import { percentile } from './stats';

describe('percentile (nearest rank)', () => {
  const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  it.each([
    [50, 5],
    [10, 1],
    [0, 1],
    [90, 9],
    [99, 10],
    [100, 10],
  ])('p%d of 1..10 is %d', (p, want) => expect(percentile(xs, p)).toBe(want));
  it('is NaN for an empty sample', () => expect(percentile([], 50)).toBeNaN());
  it('does not reorder its input', () => {
    const copy = [...xs];
    percentile(xs, 50);
    expect(xs).toEqual(copy);
  });
});

describe('nginxConf', () => {
  const conf = nginxConf({ dir: '/tmp/x', port: 1234, upstream: '127.9.0.1:8000', workers: 1 });
  it.each([
    ['runs in the foreground', /^daemon off;$/m],
    ['listens on loopback only', /^\s*listen 127\.0\.0\.1:1234;$/m],
    ['keeps its pid file in the dir', /^pid \/tmp\/x\/nginx\.pid;$/m],
    ['logs errors in the dir', /^error_log \/tmp\/x\/error\.log warn;$/m],
    ['keeps temp files in the dir', /^\s*proxy_temp_path \/tmp\/x\/proxy;$/m],
    ['proxies to the engine', /server 127\.9\.0\.1:8000;/],
    ['keeps upstream connections alive', /^\s*keepalive 128;$/m],
    [
      'speaks HTTP/1.1 upstream without Connection: close',
      /proxy_http_version 1\.1;\s*proxy_set_header Connection "";/,
    ],
    ['does not buffer responses', /proxy_buffering off;/],
    ['closes idle upstream connections before Node does (5 s)', /keepalive_timeout 4s;/],
    ['has one worker', /^worker_processes 1;$/m],
  ])('%s', (_what, re) => expect(conf).toMatch(re));
});

describe('areaOf', () => {
  it.each([
    ['', '(native / V8)'],
    ['file:///w/node_modules/undici/lib/dispatcher/client-h1.js', 'undici'],
    ['file:///w/node_modules/@prisma/client/runtime/client.js', '@prisma/client'],
    ['node:internal/streams/writable', 'node:internal'],
    ['node:net', 'node:net'],
    ['file:///w/dist/libs/gateway/src/proxy/gateway-proxy.js', 'dist/libs/gateway/src'],
  ])('%s -> %s', (url, want) => expect(areaOf(url)).toBe(want));
});

describe('summarizeCpuProfile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cpuprofile-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const frame = (functionName: string, url: string) => ({
    functionName,
    url,
    lineNumber: 0,
    columnNumber: 0,
  });
  // root -> handler (project) -> relay (undici) ; root -> (idle) ; root -> (garbage collector)
  const file = path.join(dir, 'p.cpuprofile');
  writeFileSync(
    file,
    JSON.stringify({
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 4, 5] },
        { id: 2, callFrame: frame('handler', 'file:///w/dist/libs/gateway/src/a.js'), children: [3] },
        { id: 3, callFrame: frame('relay', 'file:///w/node_modules/undici/lib/x.js') },
        { id: 4, callFrame: frame('(idle)', '') },
        { id: 5, callFrame: frame('(garbage collector)', '') },
      ],
      startTime: 1000,
      // Samples at t = 1100 (handler), 1300 (relay), 1600 (idle), 2000 (gc): deltas 100, 200, 300, 400.
      samples: [2, 3, 4, 5],
      timeDeltas: [100, 200, 300, 400],
      endTime: 2000,
    }),
  );
  it('charges self time to functions and packages, leaves idle out of busy time', () => {
    const out = summarizeCpuProfile(file);
    expect(out).toMatch(/^busy 1 ms of 1 ms sampled/); // 700 µs busy of 1000 µs (rounded)
    expect(out).toMatch(/57\.1%\s+0 ms\s+\(garbage collector\)/); // 400 / 700
    expect(out).toMatch(/28\.6%\s+0 ms\s+undici/); // 200 / 700
    expect(out).toMatch(/14\.3%\s+0 ms\s+dist\/libs\/gateway\/src/); // 100 / 700
  });
  it('counts inclusive time once per function on the stack', () => {
    const out = summarizeCpuProfile(file);
    const inclusive = out.slice(out.indexOf('inclusive'));
    expect(inclusive).toMatch(/42\.9%\s+0 ms\s+handler dist\/libs\/gateway\/src\/a\.js:1/); // (100 + 200) / 700
  });
  it('keeps only the samples inside the windows', () => {
    const out = summarizeCpuProfile(file, 25, [{ from: 1200, to: 1400 }]); // the relay sample only
    expect(out).toMatch(/100\.0%\s+0 ms\s+undici/);
    expect(out).not.toMatch(/garbage collector/);
  });
});
