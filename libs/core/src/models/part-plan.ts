const MIB = 1024 * 1024;
const MAX_PARTS = 10_000;

export interface PartPlan {
  partSize: number;
  partCount: number;
}

/**
 * How to cut a file of `size` bytes into multipart parts: the configured part size, grown (in whole MiB)
 * when the file would otherwise need more than S3's 10,000 parts. An empty file is one empty part.
 */
export function planParts(size: number, preferredPartSize: number): PartPlan {
  const minForCount = Math.ceil(size / MAX_PARTS);
  const partSize = Math.max(preferredPartSize, Math.ceil(minForCount / MIB) * MIB);
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Bytes part `n` (1-based) must carry. */
export function partLength(plan: PartPlan, size: number, n: number): number {
  if (n < plan.partCount) return plan.partSize;
  return size - (plan.partCount - 1) * plan.partSize;
}
