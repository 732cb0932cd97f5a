import { Bucket, decide, Decision, drain, fill, Limits } from './limit-math';

const UNLIMITED: Limits = { requestsPerMinute: 0, tokensPerMinute: 0, concurrentStreams: 0 };

interface KeyState {
  rpm: Bucket | null;
  tpm: Bucket | null;
  streams: number;
  /** the limits last applied, to know when the buckets have drained */
  limits: Limits;
}

/**
 * The same limits, counted in this process only: what the gateway enforces while Redis is
 * unreachable. Each process then admits up to the full limit on its own, so a key may get up to
 * (number of gateway processes) x its limit during an outage — bounded, instead of unlimited.
 */
export class LocalLimiter {
  private readonly keys = new Map<string, KeyState>();

  admit(subject: string, limits: Limits, stream: boolean, now: number): Decision {
    const state = this.state(subject, limits);
    const decision = decide(
      {
        requests: drain(state.rpm, now, limits.requestsPerMinute),
        tokens: drain(state.tpm, now, limits.tokensPerMinute),
        streams: state.streams,
      },
      limits,
      stream,
    );
    if (!decision.ok) return decision;
    if (limits.requestsPerMinute > 0) state.rpm = fill(state.rpm, now, limits.requestsPerMinute, 1);
    if (stream && limits.concurrentStreams > 0) state.streams += 1;
    return decision;
  }

  charge(subject: string, tokensPerMinute: number, tokens: number, now: number): void {
    if (tokensPerMinute <= 0 || tokens <= 0) return;
    const state = this.state(subject);
    state.limits = { ...state.limits, tokensPerMinute };
    state.tpm = fill(state.tpm, now, tokensPerMinute, tokens);
  }

  private state(subject: string, limits?: Limits): KeyState {
    let state = this.keys.get(subject);
    if (!state) {
      state = { rpm: null, tpm: null, streams: 0, limits: limits ?? UNLIMITED };
      this.keys.set(subject, state);
    } else if (limits) {
      state.limits = limits;
    }
    return state;
  }

  releaseStream(subject: string): void {
    const state = this.keys.get(subject);
    if (state && state.streams > 0) state.streams -= 1;
  }

  /** Forgets keys whose buckets have drained and that hold no stream, so the map stays small. */
  prune(now: number): void {
    for (const [subject, s] of this.keys) {
      const l = s.limits;
      if (
        s.streams === 0 &&
        drain(s.rpm, now, l.requestsPerMinute) === 0 &&
        drain(s.tpm, now, l.tokensPerMinute) === 0
      ) {
        this.keys.delete(subject);
      }
    }
  }

  get size(): number {
    return this.keys.size;
  }
}
