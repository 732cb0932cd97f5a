import net from 'node:net';

/**
 * A TCP proxy on loopback in front of a real server (Redis, PostgreSQL), to take that server away
 * from one client without stopping it for everyone else on the machine:
 * - `cut()`: existing connections are reset and new ones refused (the server is down);
 * - `blackhole()`: connections stay open but nothing is forwarded (the server hangs);
 * - `restore()`: back to normal.
 */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private mode: 'up' | 'blackhole' = 'up';
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname, Number(u.port));
  }

  /** The same URL, through the proxy. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async start(): Promise<this> {
    await this.listen();
    return this;
  }

  private listen(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      const forget = () => {
        this.sockets.delete(client);
        this.sockets.delete(upstream);
        client.destroy();
        upstream.destroy();
      };
      client.on('data', (d) => this.mode === 'up' && upstream.write(d));
      upstream.on('data', (d) => this.mode === 'up' && client.write(d));
      client.on('close', forget).on('error', forget);
      upstream.on('close', forget).on('error', forget);
    });
    return new Promise((resolve) =>
      this.server!.listen(this.port, '127.0.0.1', () => {
        this.port = (this.server!.address() as net.AddressInfo).port;
        resolve();
      }),
    );
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
    if (server) await new Promise((r) => server.close(r));
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  async restore(): Promise<void> {
    this.mode = 'up';
    if (!this.server) await this.listen();
  }

  stop(): Promise<void> {
    return this.cut();
  }
}
