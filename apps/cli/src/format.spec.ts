import { describe, expect, it } from 'vitest';
import {
  bar,
  formatAge,
  formatBytes,
  formatDuration,
  formatEta,
  formatRate,
  percent,
  table,
  truncateStart,
} from './format';

describe('format', () => {
  it('ages as kubectl shows them', () => {
    const now = Date.parse('2025-01-10T12:00:00Z');
    expect(formatAge('2025-01-10T11:59:15Z', now)).toBe('45s');
    expect(formatAge('2025-01-10T11:48:00Z', now)).toBe('12m');
    expect(formatAge('2025-01-10T07:00:00Z', now)).toBe('5h');
    expect(formatAge('2025-01-07T12:00:00Z', now)).toBe('3d');
    expect(formatAge('2025-01-10T12:00:05Z', now)).toBe('0s');
    expect(formatAge(undefined, now)).toBe('-');
    expect(formatAge('nonsense', now)).toBe('-');
  });

  it('sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(80 * 1024 * 1024)).toBe('80.0 MiB');
    expect(formatBytes(3.25 * 1024 ** 3)).toBe('3.3 GiB');
    expect(formatBytes(-1)).toBe('?');
  });

  it('rates in decimal MB/s', () => {
    expect(formatRate(12_345_678)).toBe('12.3 MB/s');
    expect(formatRate(456_000_000)).toBe('456 MB/s');
    expect(formatRate(0)).toBe('0.0 MB/s');
    expect(formatRate(Number.NaN)).toBe('-- MB/s');
  });

  it('durations and ETA', () => {
    expect(formatDuration(5)).toBe('0:05');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(Infinity)).toBe('--:--');
    expect(formatEta(100e6, 10e6)).toBe('0:10');
    expect(formatEta(100, 0)).toBe('--:--');
    expect(formatEta(0, 0)).toBe('0:00');
  });

  it('bars, percentages, truncation, tables', () => {
    expect(bar(0.5, 12)).toBe('[#####.....]');
    expect(bar(2, 6)).toBe('[####]');
    expect(bar(Number.NaN, 6)).toBe('[....]');
    expect(percent(1, 3)).toBe('33%');
    expect(percent(5, 0)).toBe('100%');
    expect(truncateStart('model-00001-of-00004.safetensors', 12)).toBe('…safetensors');
    expect(truncateStart('abc', 5)).toBe('abc');
    expect(table(['A', 'BB'], [['xxx', 'y']])).toBe('A    BB\nxxx  y');
  });
});
