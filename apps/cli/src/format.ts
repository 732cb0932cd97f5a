/** Human-readable sizes, rates and durations for the CLI's output and progress bars. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB"; binary units, one decimal above bytes. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Throughput in decimal megabytes per second, as network tools show it: "12.3 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return '-- MB/s';
  const mb = bytesPerSecond / 1e6;
  return `${mb >= 100 ? mb.toFixed(0) : mb.toFixed(1)} MB/s`;
}

/** Seconds -> "m:ss" or "h:mm:ss"; unknown or absurd -> "--:--". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 99 * 3600) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

/** Remaining time at the current rate; "--:--" when nothing moves. */
export function formatEta(remainingBytes: number, bytesPerSecond: number): string {
  if (remainingBytes <= 0) return '0:00';
  if (!(bytesPerSecond > 0)) return '--:--';
  return formatDuration(remainingBytes / bytesPerSecond);
}

/** A fixed-width bar: "[#####.....]" for 0.5 at width 12. */
export function bar(fraction: number, width: number): string {
  const inner = Math.max(1, width - 2);
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * inner);
  return `[${'#'.repeat(filled)}${'.'.repeat(inner - filled)}]`;
}

/** Percentage with no decimals, 100 only when complete. */
export function percent(done: number, total: number): string {
  if (total <= 0) return '100%';
  const p = Math.floor((done / total) * 100);
  return `${Math.min(100, Math.max(0, p))}%`;
}

/** Shortens a string to `max` characters keeping its end (file names differ at the end): "…nsors". */
export function truncateStart(text: string, max: number): string {
  if (max <= 0) return '';
  if (text.length <= max) return text;
  if (max === 1) return '…';
  return `…${text.slice(text.length - max + 1)}`;
}

/** Left-aligned text table with two spaces between columns. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Time since `iso`, as kubectl shows it: "45s", "12m", "5h", "3d"; unknown -> "-". */
export function formatAge(iso: string | undefined, now = Date.now()): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (!Number.isFinite(t)) return '-';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
