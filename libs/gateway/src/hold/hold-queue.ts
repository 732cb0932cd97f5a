import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { GatewayError } from '../proxy/gateway-error';
import { RoutingTable } from '../routing/routing-table';
import type { ServiceEntry } from '../routing/service-entry';
import { LoadTracker } from './load-tracker';

interface Waiter {
  resolve: () => void;
  reject: (err: GatewayError) => void;
}

export interface HoldOptions {
  /** Called every GATEWAY_HOLD_KEEPALIVE_MS while held (streaming clients get an SSE comment). */
  onKeepAlive?: () => void;
  /** The client went away: stop waiting. */
  signal: AbortSignal;
}

/**
 * Requests for a service scaled to zero wait here (bounded per service and process) until a ready
 * leader appears in the routing table, or GATEWAY_HOLD_TIMEOUT_MS passes (503 with Retry-After).
 * Holding is what makes the autoscaler start a group: the load tracker counts held requests and the
 * signals publish the wake-up.
 */
@Injectable()
export class HoldQueue implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly waiting = new Map<string, Set<Waiter>>();
  private unsubscribe?: () => void;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly routing: RoutingTable,
    private readonly load: LoadTracker,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.routing.onReady((id) => this.release(id));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    for (const set of this.waiting.values()) {
      for (const w of set) {
        w.reject(
          GatewayError.unavailable('The gateway is shutting down.', this.config.gateway.retryAfterSeconds),
        );
      }
    }
    this.waiting.clear();
  }

  heldCount(serviceId: string): number {
    return this.waiting.get(serviceId)?.size ?? 0;
  }

  /** Resolves once the service has a ready group; rejects with 503 when full or timed out. */
  wait(service: ServiceEntry, opts: HoldOptions): Promise<void> {
    const { timeoutMs, maxPerService, keepAliveMs } = this.config.gateway.hold;
    const retryAfter = this.config.gateway.retryAfterSeconds;
    let set = this.waiting.get(service.id);
    if ((set?.size ?? 0) >= maxPerService || timeoutMs === 0) {
      return Promise.reject(
        GatewayError.unavailable(
          `The model \`${service.servedModelName}\` is scaled to zero and is starting; too many requests are already waiting for it.`,
          retryAfter,
          'model_starting',
        ),
      );
    }
    if (!set) this.waiting.set(service.id, (set = new Set()));
    const waiters = set;
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        clearInterval(keepAlive);
        opts.signal.removeEventListener('abort', onAbort);
        waiters.delete(waiter);
        if (waiters.size === 0 && this.waiting.get(service.id) === waiters) this.waiting.delete(service.id);
        this.load.unhold(service.id);
      };
      const waiter: Waiter = {
        resolve: () => {
          done();
          resolve();
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.reject(
            GatewayError.unavailable(
              `The model \`${service.servedModelName}\` is scaled to zero and no group became ready within ${Math.round(timeoutMs / 1000)} s; retry later.`,
              retryAfter,
              'model_starting',
            ),
          ),
        timeoutMs,
      );
      const keepAlive = opts.onKeepAlive ? setInterval(opts.onKeepAlive, keepAliveMs) : undefined;
      const onAbort = (): void =>
        waiter.reject(
          GatewayError.unavailable('The client went away while the request was held.', retryAfter),
        );
      opts.signal.addEventListener('abort', onAbort, { once: true });
      waiters.add(waiter);
      this.load.hold(service.id);
      // A group may have become ready between the caller's check and now.
      if ((this.routing.route(service.id)?.endpoints.length ?? 0) > 0) waiter.resolve();
    });
  }

  private release(serviceId: string): void {
    const set = this.waiting.get(serviceId);
    if (!set) return;
    for (const w of [...set]) w.resolve();
  }
}
