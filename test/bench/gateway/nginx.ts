/**
 * nginx as a reverse proxy for the gateway benchmark: its own configuration, pid file, logs and temp
 * paths in a temp directory, listening on loopback, run in the foreground as a child process.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tcpAnswers } from '../../../libs/testing/src';

export interface NginxProxy {
  url: string;
  /** The master's pid; its workers are its children. */
  pid: number;
  stop(): Promise<void>;
}

/** The nginx binary, or null when nginx is not installed. */
export function findNginx(): string | null {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}

/**
 * The configuration: one worker (the gateway under comparison is one Node process), HTTP/1.1 keep-alive
 * to the upstream, no buffering in either direction (streams are relayed as they arrive, like the
 * gateway must), no access log. The upstream idle timeout stays below Node's 5 s keepAliveTimeout so
 * nginx never reuses a connection the engine is closing.
 */
export function nginxConf(o: { dir: string; port: number; upstream: string; workers: number }): string {
  const p = (name: string) => path.join(o.dir, name);
  return `# Written by test/bench/gateway.bench.ts
daemon off;
master_process on;
worker_processes ${o.workers};
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  client_body_temp_path ${p('client_body')};
  proxy_temp_path ${p('proxy')};
  fastcgi_temp_path ${p('fastcgi')};
  uwsgi_temp_path ${p('uwsgi')};
  scgi_temp_path ${p('scgi')};
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_max_body_size 64m;
  upstream engine {
    server ${o.upstream};
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:${o.port};
    location / {
      proxy_pass http://engine;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`;
}

export async function startNginx(o: {
  binary: string;
  dir: string;
  port: number;
  /** host:port of the engine. */
  upstream: string;
  workers?: number;
}): Promise<NginxProxy> {
  mkdirSync(o.dir, { recursive: true });
  const conf = path.join(o.dir, 'nginx.conf');
  writeFileSync(conf, nginxConf({ dir: o.dir, port: o.port, upstream: o.upstream, workers: o.workers ?? 1 }));
  // -e: the startup error log goes to the temp dir too, not to the distribution's /var/log/nginx.
  const child: ChildProcess = spawn(
    o.binary,
    ['-p', o.dir, '-c', conf, '-e', path.join(o.dir, 'error.log')],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + 10_000;
  while (!(await tcpAnswers('127.0.0.1', o.port, 200))) {
    if (exited) throw new Error(`nginx exited at start (see ${path.join(o.dir, 'error.log')})`);
    if (Date.now() > deadline) throw new Error('nginx did not listen within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${o.port}`,
    pid: child.pid!,
    async stop() {
      if (exited) return;
      child.kill('SIGQUIT'); // graceful: the master waits for its workers
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
