/**
 * Hand-written SVG of the autoscale timeline: offered load (in groups' worth of the target) as a
 * shaded area, desired and ready groups as step lines, decision changes as ticks. Pure: rows in,
 * SVG text out.
 */
import type { TimelineRow } from './timeline';

export interface ChartOptions {
  title: string;
  /** Requests one group should carry: converts offered load into groups' worth. */
  target: number;
  /** Phase boundaries to mark on the time axis. */
  marks?: { t: number; label: string }[];
  width?: number;
  height?: number;
}

const COLORS = { offered: '#c7d2fe', desired: '#1d4ed8', ready: '#16a34a', grid: '#e5e7eb', text: '#111827' };

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

export function renderTimelineSvg(rows: TimelineRow[], o: ChartOptions): string {
  if (rows.length === 0) throw new Error('renderTimelineSvg: no rows to draw');
  const width = o.width ?? 960;
  const height = o.height ?? 420;
  const pad = { left: 56, right: 24, top: 48, bottom: 72 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const tMin = rows[0].t;
  const tMax = Math.max(rows[rows.length - 1].t, tMin + 1);
  const yMax = Math.max(
    1,
    Math.ceil(Math.max(...rows.map((r) => Math.max(r.offered / o.target, r.desired, r.ready)))),
  );
  const x = (t: number) => pad.left + ((t - tMin) / (tMax - tMin)) * plotW;
  // A little headroom above the top grid line, so lines at the maximum stay visible.
  const y = (v: number) => pad.top + plotH - (v / (yMax * 1.08)) * plotH;
  const f = (n: number) => n.toFixed(1);

  // Step lines: a value holds until the next row.
  const steps = (value: (r: TimelineRow) => number) =>
    rows
      .map((r, i) => {
        const p = `${f(x(r.t))},${f(y(value(r)))}`;
        const next = rows[i + 1];
        return next ? `${p} ${f(x(next.t))},${f(y(value(r)))}` : p;
      })
      .join(' ');
  const area =
    `${f(x(tMin))},${f(y(0))} ` +
    steps((r) => r.offered / o.target) +
    ` ${f(x(rows[rows.length - 1].t))},${f(y(0))}`;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${pad.left}" y="24" font-size="15" fill="${COLORS.text}">${escapeXml(o.title)}</text>`,
  );
  // Grid and y axis (groups).
  for (let v = 0; v <= yMax; v++) {
    out.push(
      `<line x1="${pad.left}" x2="${width - pad.right}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="${COLORS.grid}"/>`,
      `<text x="${pad.left - 8}" y="${f(y(v) + 4)}" text-anchor="end" fill="${COLORS.text}">${v}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${f(pad.top + plotH / 2)}) rotate(-90)" text-anchor="middle" fill="${COLORS.text}">groups (load in groups' worth)</text>`,
  );
  // x axis (seconds).
  const tickEvery = niceStep((tMax - tMin) / 10);
  for (let t = Math.ceil(tMin / tickEvery) * tickEvery; t <= tMax; t += tickEvery) {
    out.push(
      `<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${f(y(0))}" y2="${f(y(0) + 4)}" stroke="${COLORS.text}"/>`,
      `<text x="${f(x(t))}" y="${f(y(0) + 18)}" text-anchor="middle" fill="${COLORS.text}">${t}</text>`,
    );
  }
  out.push(
    `<text x="${f(pad.left + plotW / 2)}" y="${f(y(0) + 36)}" text-anchor="middle" fill="${COLORS.text}">seconds since the load started</text>`,
  );
  out.push(`<polygon points="${area}" fill="${COLORS.offered}" stroke="none"/>`);
  for (const m of o.marks ?? []) {
    if (m.t < tMin || m.t > tMax) continue;
    out.push(
      `<line x1="${f(x(m.t))}" x2="${f(x(m.t))}" y1="${pad.top}" y2="${f(y(0))}" stroke="#9ca3af" stroke-dasharray="4 3"/>`,
      `<text x="${f(x(m.t) + 4)}" y="${pad.top + 12}" fill="#6b7280">${escapeXml(m.label)}</text>`,
    );
  }
  out.push(
    `<polyline points="${steps((r) => r.ready)}" fill="none" stroke="${COLORS.ready}" stroke-width="2.5"/>`,
    `<polyline points="${steps((r) => r.desired)}" fill="none" stroke="${COLORS.desired}" stroke-width="2" stroke-dasharray="6 3"/>`,
  );
  // A dot wherever the desired number of groups changed, titled with the old -> new and the reason.
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].desired === rows[i - 1].desired) continue;
    const r = rows[i];
    out.push(
      `<circle cx="${f(x(r.t))}" cy="${f(y(r.desired))}" r="3.5" fill="${COLORS.desired}"><title>${escapeXml(
        `t=${r.t}s: ${rows[i - 1].desired} -> ${r.desired}${r.reason ? ` (${r.reason})` : ''}`,
      )}</title></circle>`,
    );
  }
  // Legend.
  const ly = height - 18;
  const legend: [string, string, string][] = [
    ['offered load (× target)', COLORS.offered, 'area'],
    ['desired groups', COLORS.desired, 'dash'],
    ['ready groups', COLORS.ready, 'line'],
  ];
  legend.forEach(([label, color, kind], i) => {
    const lx = pad.left + i * 220;
    out.push(
      kind === 'area'
        ? `<rect x="${lx}" y="${ly - 9}" width="22" height="10" fill="${color}"/>`
        : `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2.5"${kind === 'dash' ? ' stroke-dasharray="6 3"' : ''}/>`,
      `<text x="${lx + 28}" y="${ly}" fill="${COLORS.text}">${escapeXml(label)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** 1, 2, 5 × 10^k at or above `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}
