/** Byte ranges of an upload session's parts, and which of them the server still lacks. */

export interface PartPlan {
  partNumber: number;
  /** First byte (inclusive). */
  start: number;
  /** Bytes in this part: partSize, the last one the remainder. */
  size: number;
}

/** Splits `size` bytes into parts of `partSize`; checks the server's `partCount` when given. */
export function planParts(size: number, partSize: number, partCount?: number): PartPlan[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`invalid file size ${size}`);
  if (!Number.isSafeInteger(partSize) || partSize <= 0) throw new Error(`invalid part size ${partSize}`);
  const count = Math.max(1, Math.ceil(size / partSize));
  if (partCount !== undefined && partCount !== count) {
    throw new Error(
      `the server's part count (${partCount}) does not match ${size} bytes in parts of ${partSize}`,
    );
  }
  const parts: PartPlan[] = [];
  for (let i = 0; i < count; i++) {
    const start = i * partSize;
    parts.push({ partNumber: i + 1, start, size: Math.min(partSize, size - start) });
  }
  return parts;
}

/** Parts not yet received by the server (a received part with the wrong size counts as missing). */
export function missingParts(plan: PartPlan[], received: { partNumber: number; size: number }[]): PartPlan[] {
  const have = new Map(received.map((p) => [p.partNumber, p.size]));
  return plan.filter((p) => have.get(p.partNumber) !== p.size);
}

/** Bytes the server already holds for this plan. */
export function receivedBytes(plan: PartPlan[], received: { partNumber: number; size: number }[]): number {
  const missing = new Set(missingParts(plan, received).map((p) => p.partNumber));
  return plan.filter((p) => !missing.has(p.partNumber)).reduce((sum, p) => sum + p.size, 0);
}
