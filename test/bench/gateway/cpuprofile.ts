/**
 * Summary of a V8 `.cpuprofile` (from `node --cpu-prof`): where the process spent its samples, by
 * function (self and inclusive time) and by package. Used by the gateway benchmark with BENCH_PROFILE=1,
 * and runnable alone: `npx tsx test/bench/gateway/cpuprofile.ts <file.cpuprofile> [rows] [windows.json [phase]]`
 * (the benchmark writes windows.json, the measurement windows, next to the profile).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Package or area a script belongs to: an npm package, the project's own code, Node internals. */
export function areaOf(url: string): string {
  if (!url) return '(native / V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const dist = url.indexOf('/dist/');
  if (dist >= 0)
    return url
      .slice(dist + 1)
      .split('/')
      .slice(0, 4)
      .join('/');
  return url;
}

function frameKey(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const short = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist)\//, '$1/');
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
}

/** A time window on the monotonic clock, in microseconds (`process.hrtime.bigint() / 1000n`). */
export interface Window {
  from: number;
  to: number;
}

/**
 * Summary of the samples taken inside `windows` (all samples when none). V8 stamps samples with the
 * monotonic clock (CLOCK_MONOTONIC on Linux), the clock of `process.hrtime` in every process, so
 * another process's windows select the samples of a measurement phase.
 */
export function summarizeCpuProfile(file: string, rows = 25, windows?: Window[]): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const inWindow = (t: number) => !windows || windows.some((w) => t >= w.from && t < w.to);
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    // A sample stands for the interval before it.
    if (inWindow(t)) selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = p.nodes
    .filter((n) => n.callFrame.functionName === '(idle)')
    .reduce((a, n) => a + (selfUs.get(n.id) ?? 0), 0);
  const busy = total - idle;

  const selfByFn = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const inclByFn = new Map<string, number>();
  const parents = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
  // WebAssembly has no script URL: charge it to the package that called into it (undici's llhttp,
  // Prisma's query compiler).
  const wasmOwner = (id: number): string => {
    for (let a = parents.get(id); a !== undefined; a = parents.get(a)) {
      const url = byId.get(a)!.callFrame.url;
      if (url && !url.startsWith('wasm://')) return areaOf(url);
    }
    return '?';
  };
  for (const n of p.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (!us || n.callFrame.functionName === '(idle)') continue;
    const k = frameKey(n);
    selfByFn.set(k, (selfByFn.get(k) ?? 0) + us);
    const area =
      n.callFrame.functionName === '(garbage collector)'
        ? '(garbage collector)'
        : n.callFrame.url.startsWith('wasm://')
          ? `wasm of ${wasmOwner(n.id)}`
          : areaOf(n.callFrame.url);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + us);
    // Inclusive: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parents.get(id)) {
      const key = frameKey(byId.get(id)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclByFn.set(key, (inclByFn.get(key) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const table = (m: Map<string, number>, n: number, filter: (k: string) => boolean = () => true) =>
    [...m.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
      .join('\n');
  return [
    `busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled` +
      `${windows ? ` in ${windows.length} windows` : ''} (percentages of busy time)`,
    'self time by package / area:',
    table(selfByArea, 16),
    'self time by function:',
    table(selfByFn, rows),
    'inclusive time by function (project code and proxying libraries):',
    table(inclByFn, rows, (k) => /dist\/|undici|fastify|@nestjs|ioredis|prom-client|pino/.test(k)),
  ].join('\n');
}

if (require.main === module) {
  const [file, rows, windowsFile, phase] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpuprofile.ts <file.cpuprofile> [rows] [windows.json [phase]]');
    process.exit(2);
  }
  const windows = windowsFile
    ? (JSON.parse(readFileSync(windowsFile, 'utf8')) as (Window & { phase: string })[]).filter(
        (w) => !phase || w.phase === phase,
      )
    : undefined;
  console.log(summarizeCpuProfile(file, rows ? Number(rows) : 25, windows));
}
