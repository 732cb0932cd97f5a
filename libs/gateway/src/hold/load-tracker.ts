import { Injectable } from '@nestjs/common';

export interface ServiceLoad {
  /** Requests being proxied to an engine. */
  inflight: number;
  /** Requests held waiting for a ready group (scale from zero). */
  held: number;
}

/** This process's load per service: what the gateway reports to the autoscaler through Redis. */
@Injectable()
export class LoadTracker {
  private readonly load = new Map<string, ServiceLoad>();
  private heldListener?: (serviceId: string) => void;

  of(serviceId: string): ServiceLoad {
    let l = this.load.get(serviceId);
    if (!l) this.load.set(serviceId, (l = { inflight: 0, held: 0 }));
    return l;
  }

  /** Called when a service's held count goes from 0 to 1 (the reporter writes at once). */
  onFirstHeld(listener: (serviceId: string) => void): void {
    this.heldListener = listener;
  }

  hold(serviceId: string): void {
    const l = this.of(serviceId);
    if (l.held++ === 0) this.heldListener?.(serviceId);
  }

  unhold(serviceId: string): void {
    this.of(serviceId).held--;
  }

  /** Services with anything in flight or held. */
  snapshot(): [string, ServiceLoad][] {
    const out: [string, ServiceLoad][] = [];
    for (const [id, l] of this.load) {
      if (l.inflight > 0 || l.held > 0) out.push([id, { ...l }]);
      else this.load.delete(id);
    }
    return out;
  }
}
