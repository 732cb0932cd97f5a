/**
 * Upload requests running at once in this process: at most `maxTotal`, and at most `maxPerProject` for
 * one project, so one tenant's parallel uploads cannot take every socket and part buffer of a server
 * (a streaming PUT holds two part-sized buffers). Pure bookkeeping; the caller answers a refusal with
 * 429 and Retry-After.
 */
export class UploadSlots {
  private total = 0;
  private readonly perProject = new Map<string, number>();

  constructor(
    readonly maxTotal: number,
    readonly maxPerProject: number,
  ) {}

  /** Takes a slot for one upload request; returns its release (idempotent), or why there is none. */
  take(projectId: string): { release: () => void } | { refused: string } {
    const mine = this.perProject.get(projectId) ?? 0;
    if (mine >= this.maxPerProject)
      return {
        refused: `this project already has ${mine} uploads in progress on this server (UPLOAD_MAX_CONCURRENT_PER_PROJECT=${this.maxPerProject})`,
      };
    if (this.total >= this.maxTotal)
      return {
        refused: `this server already takes ${this.total} uploads at once (UPLOAD_MAX_CONCURRENT=${this.maxTotal})`,
      };
    this.total++;
    this.perProject.set(projectId, mine + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.perProject.get(projectId) ?? 1) - 1;
        if (left > 0) this.perProject.set(projectId, left);
        else this.perProject.delete(projectId);
      },
    };
  }

  get inUse(): number {
    return this.total;
  }
}
