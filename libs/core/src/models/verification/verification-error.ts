/**
 * A checkpoint problem, worded for the person who uploaded it: what is wrong, in which file, and when possible
 * what to do. Verification turns these into the reasons of a FAILED version.
 */
export class VerificationError extends Error {
  constructor(
    message: string,
    /** The file the problem is in, when it is about one file. */
    readonly file?: string,
  ) {
    super(file === undefined ? message : `${file}: ${message}`);
    this.name = 'VerificationError';
  }
}

/** 4294967296 -> "4,294,967,296": byte counts people can read. */
export function formatCount(n: number | bigint): string {
  return n.toLocaleString('en-US');
}
