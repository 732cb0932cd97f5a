// Pod IPs in 127.0.0.0/8: 127.0.1.1, 127.0.1.2, … 127.0.1.254, 127.0.2.1, … (never 127.0.0.x),
// unique among live pods. Freed addresses are reused only after the range wraps around.
// `randomStart()` picks where a simulator starts in the range, so that simulators running at the same
// time on one machine (parallel test runs) do not hand out the same pod IP:port.

const FIRST = (127 << 24) | (0 << 16) | (1 << 8) | 1;
const LAST = (127 << 24) | (99 << 16) | (255 << 8) | 254;

export function ipToString(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A random address in the range, on a /24 boundary (…x.1). */
export function randomStart(): string {
  const blocks = (LAST - FIRST) >>> 8;
  return ipToString(FIRST + ((Math.floor(Math.random() * blocks) << 8) >>> 0));
}

export class IpPool {
  private next: number;
  private readonly used = new Set<number>();

  /** `start`: the first address handed out (default 127.0.1.1). */
  constructor(start?: string) {
    const n = start ? parse(start) : FIRST;
    if (n === undefined || n < FIRST || n > LAST)
      throw new Error(`pod IP start ${start} is outside 127.0.1.1-127.99.255.254`);
    this.next = n;
  }

  allocate(): string {
    for (let tries = 0; tries < LAST - FIRST; tries++) {
      const n = this.next;
      this.next = n >= LAST ? FIRST : n + 1;
      const last = n & 255;
      if (last === 0 || last === 255 || this.used.has(n)) continue;
      this.used.add(n);
      return ipToString(n);
    }
    throw new Error('pod IP range exhausted');
  }

  /** Marks an address in use (a pod that already has it); false when taken or outside the range. */
  reserve(ip: string): boolean {
    const n = parse(ip);
    if (n === undefined || n < FIRST || n > LAST || this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  release(ip: string): void {
    const n = parse(ip);
    if (n !== undefined) this.used.delete(n);
  }

  get size(): number {
    return this.used.size;
  }
}

function parse(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}
