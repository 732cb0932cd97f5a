import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../libs/testing/src';
import { testEnv } from './app';

const root = path.resolve(__dirname, '../..');

/** A Troupe server in its own OS process, run from the TypeScript sources (no build needed). */
export interface ServerProcess {
  url: string;
  pid: number;
  /** What the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash or an OOM kill would: no shutdown hooks run. Resolves once the process is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `apps/server/src/main.ts` with `testEnv(overrides)` through the SWC require hook
 * (test/support/register-ts.cjs), and resolves once `/readyz` answers 200. It listens on
 * `overrides.PORT` when given (a restarted server keeps its address), else on a free port.
 */
export async function startServerProcess(
  overrides: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  const port = overrides.PORT && overrides.PORT !== '0' ? Number(overrides.PORT) : await freePort();
  const env = testEnv({ LOG_LEVEL: 'warn', ...overrides, PORT: String(port), HOST: '127.0.0.1' });
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', path.join(root, 'test/support/register-ts.cjs'), path.join(root, 'apps/server/src/main.ts')],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server process exited ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server process not ready within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
