// Hand-written Prometheus text exposition (format 0.0.4) with vLLM's metric names.

export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
  2560,
];
export const TPOT_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
];
export const LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = new Array<number>(buckets.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    // Non-cumulative per bucket; made cumulative when rendered.
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

/** Formats a number like Python's prometheus_client does (1 -> "1.0", Infinity -> "+Inf"). */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Accumulates metric families into exposition text. */
export class Exposition {
  private readonly lines: string[] = [];

  constructor(private readonly base: Record<string, string>) {}

  private header(name: string, help: string, type: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  gauge(name: string, help: string, value: number): this {
    this.header(name, help, 'gauge');
    this.lines.push(`${name}${labelText(this.base)} ${formatValue(value)}`);
    return this;
  }

  /** `name` must end with `_total`; one sample per label set. */
  counter(name: string, help: string, samples: { labels?: Record<string, string>; value: number }[]): this {
    this.header(name, help, 'counter');
    for (const s of samples) {
      this.lines.push(`${name}${labelText({ ...this.base, ...s.labels })} ${formatValue(s.value)}`);
    }
    return this;
  }

  histogram(name: string, help: string, h: Histogram): this {
    this.header(name, help, 'histogram');
    let cumulative = 0;
    for (let i = 0; i < h.buckets.length; i++) {
      cumulative += h.counts[i];
      this.lines.push(
        `${name}_bucket${labelText({ ...this.base, le: formatValue(h.buckets[i]) })} ${formatValue(cumulative)}`,
      );
    }
    this.lines.push(`${name}_bucket${labelText({ ...this.base, le: '+Inf' })} ${formatValue(h.count)}`);
    this.lines.push(`${name}_count${labelText(this.base)} ${formatValue(h.count)}`);
    this.lines.push(`${name}_sum${labelText(this.base)} ${formatValue(h.sum)}`);
    return this;
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}
