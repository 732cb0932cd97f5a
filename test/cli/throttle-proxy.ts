import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of the server that limits the upload bandwidth (client to server, shared by all
 * connections) and can cut every connection: a slow or flaky network between the CLI and the server.
 */
export class ThrottleProxy {
  /** Bytes forwarded to the server so far. */
  forwarded = 0;
  private nextFree = 0;
  private readonly sockets = new Set<Socket>();
  private server?: Server;

  constructor(public bytesPerSecond: number) {}

  async start(targetUrl: string): Promise<string> {
    const target = new URL(targetUrl);
    this.server = createServer((client) => {
      const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
      this.sockets.add(client).add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      upstream.pipe(client);
      client.on('data', (chunk: Buffer) => {
        const now = Date.now();
        this.nextFree = Math.max(now, this.nextFree) + (chunk.length / this.bytesPerSecond) * 1000;
        this.forwarded += chunk.length;
        upstream.write(chunk);
        const wait = this.nextFree - now;
        if (wait > 1) {
          client.pause();
          setTimeout(() => client.resume(), wait);
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  /** Cuts every open connection (the CLI sees resets mid-request). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
