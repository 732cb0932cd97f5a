// Pod IPs in 127.0.0.0/8: 127.0.1.1, 127.0.1.2, … 127.0.1.254, 127.0.2.1, … (never 127.0.0.x),
// unique among live pods. Freed addresses are reused only after the range wraps around.

const FIRST = (127 << 24) | (0 << 16) | (1 << 8) | 1;
const LAST = (127 << 24) | (99 << 16) | (255 << 8) | 254;

export function ipToString(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export class IpPool {
  private next = FIRST;
  private readonly used = new Set<number>();

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

  release(ip: string): void {
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4) return;
    this.used.delete((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]);
  }

  get size(): number {
    return this.used.size;
  }
}
