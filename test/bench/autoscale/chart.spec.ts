import { describe, expect, it } from 'vitest';
import { escapeXml, niceStep, renderTimelineSvg } from './chart';
import type { TimelineRow } from './timeline';

const row = (
  t: number,
  offered: number,
  desired: number,
  ready: number,
  reason: string | null = null,
): TimelineRow => ({
  t,
  offered,
  desired,
  ready,
  reason,
});

const rows: TimelineRow[] = [
  row(0, 16, 1, 1, 'within-target'),
  row(1, 64, 1, 1, 'within-target'),
  row(2, 64, 4, 1, 'panic-scale-up'),
  row(3, 64, 4, 4, 'within-target'),
  row(4, 0, 4, 4, 'hold-stabilization'),
  row(5, 0, 3, 3, 'scale-down'),
];

function points(svg: string, stroke: string): [number, number][] {
  const m = new RegExp(`<polyline points="([^"]+)" fill="none" stroke="${stroke}"`).exec(svg);
  if (!m) throw new Error(`no polyline stroked ${stroke}`);
  return m[1].split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

describe('renderTimelineSvg', () => {
  const svg = renderTimelineSvg(rows, {
    title: 'step 1× -> 4× <bench> & "co"',
    target: 16,
    width: 600,
    height: 300,
  });

  it('is one SVG document of the requested size', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<svg/g)).toHaveLength(1);
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it('escapes the title', () => {
    expect(svg).toContain('step 1× -&gt; 4× &lt;bench&gt; &amp; &quot;co&quot;');
  });

  it('draws desired and ready as step lines inside the plot, higher values higher up', () => {
    const desired = points(svg, '#1d4ed8');
    const ready = points(svg, '#16a34a');
    // two points per row but the last
    expect(desired).toHaveLength(rows.length * 2 - 1);
    for (const [px, py] of [...desired, ...ready]) {
      expect(px).toBeGreaterThanOrEqual(0);
      expect(px).toBeLessThanOrEqual(600);
      expect(py).toBeGreaterThanOrEqual(0);
      expect(py).toBeLessThanOrEqual(300);
    }
    const yOf = (pts: [number, number][], i: number) => pts[i * 2][1];
    expect(yOf(desired, 2)).toBeLessThan(yOf(desired, 1)); // 4 groups above 1 group
    expect(yOf(ready, 2)).toBe(yOf(desired, 1)); // ready 1 at t=2 where desired was 1 at t=1
    // a step holds its value until the next row: same y, later x
    expect(desired[1][1]).toBe(desired[0][1]);
    expect(desired[1][0]).toBe(desired[2][0]);
  });

  it('scales the y axis to the offered load in groups’ worth', () => {
    const big = renderTimelineSvg([row(0, 80, 1, 1), row(1, 80, 2, 1)], { title: 't', target: 16 });
    expect(big).toMatch(/text-anchor="end"[^>]*>5<\/text>/);
    expect(big).not.toMatch(/text-anchor="end"[^>]*>6<\/text>/);
  });

  it('marks each change of desired with the reason', () => {
    const dots = svg.match(/<circle [^>]*><title>[^<]*<\/title><\/circle>/g) ?? [];
    expect(dots).toHaveLength(2);
    expect(dots[0]).toContain('t=2s: 1 -&gt; 4 (panic-scale-up)');
    expect(dots[1]).toContain('t=5s: 4 -&gt; 3 (scale-down)');
  });

  it('draws phase marks within the time range only', () => {
    const marked = renderTimelineSvg(rows, {
      title: 't',
      target: 16,
      marks: [
        { t: 1, label: 'step to 4×' },
        { t: 99, label: 'outside' },
      ],
    });
    expect(marked).toContain('step to 4×');
    expect(marked).not.toContain('outside');
  });

  it('refuses an empty timeline', () => {
    expect(() => renderTimelineSvg([], { title: 't', target: 16 })).toThrow(/no rows/);
  });
});

describe('chart helpers', () => {
  it.each([
    [0.3, 0.5],
    [1, 1],
    [1.1, 2],
    [3, 5],
    [7, 10],
    [16, 20],
    [0, 1],
  ])('niceStep(%s) = %s', (raw, step) => {
    expect(niceStep(raw)).toBeCloseTo(step, 9);
  });

  it('escapeXml', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});
