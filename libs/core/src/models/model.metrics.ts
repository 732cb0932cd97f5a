import { Injectable } from '@nestjs/common';
import { AppException, httpStatusFor, MetricsRegistry } from '@troupe/common';
import { Counter, Gauge } from 'prom-client';

export type UploadKind = 'file' | 'part' | 'complete';

/** Readings for the gauges: upload requests in progress, bytes held for hashing, bytes queued to hash threads. */
export interface GaugeSource {
  inProgress: () => number;
  held: () => number;
  queued: () => number;
}

/**
 * Prometheus metrics of weight uploads and verification: what an operator of a platform that ingests
 * multi-GB checkpoints watches (bytes in, refusals vs failures, how much of the whole-file sha256 had
 * to be read back, memory held for hashing, verification outcomes).
 */
@Injectable()
export class ModelMetrics {
  private readonly bytes: Counter<'kind'>;
  private readonly requests: Counter<'kind' | 'result'>;
  private readonly sha256Bytes: Counter<'how'>;
  private readonly chainsLost: Counter;
  private readonly verifications: Counter<'outcome'>;
  /** What the gauges read at scrape time (set by the upload service). */
  private source: GaugeSource = { inProgress: () => 0, held: () => 0, queued: () => 0 };

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.bytes = new Counter({
      name: 'troupe_upload_bytes_total',
      help: 'Bytes stored in object storage by uploads: whole files (streaming PUT) and session parts.',
      labelNames: ['kind'],
      registers,
    });
    this.requests = new Counter({
      name: 'troupe_upload_requests_total',
      help: 'Upload requests by kind (file, part, complete) and result: ok, refused (4xx: bad input, limits, checksum, client gone), failed (5xx: a dependency or a bug).',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.sha256Bytes = new Counter({
      name: 'troupe_upload_sha256_bytes_total',
      help: 'Bytes of completed sessions covered by the whole-file sha256: hashed as they streamed in, or read back from storage at completion.',
      labelNames: ['how'],
      registers,
    });
    this.chainsLost = new Counter({
      name: 'troupe_upload_hash_chains_lost_total',
      help: 'Whole-file hash chains given up because hashing failed (a hash thread died); completion re-reads instead.',
      registers,
    });
    this.verifications = new Counter({
      name: 'troupe_model_verifications_total',
      help: 'Model versions verified, by outcome (ready, failed).',
      labelNames: ['outcome'],
      registers,
    });
    const read = (what: keyof GaugeSource) => () => this.source[what]();
    const inProgress = read('inProgress');
    const held = read('held');
    const queued = read('queued');
    new Gauge({
      name: 'troupe_upload_requests_in_progress',
      help: 'Upload requests (file PUTs and session parts) this process is taking now (capped by UPLOAD_MAX_CONCURRENT).',
      registers,
      collect() {
        this.set(inProgress());
      },
    });
    new Gauge({
      name: 'troupe_upload_hash_held_bytes',
      help: 'Memory holding session parts that arrived before their predecessor (bounded by UPLOAD_HASH_HOLD_BYTES).',
      registers,
      collect() {
        this.set(held());
      },
    });
    new Gauge({
      name: 'troupe_upload_hash_queue_bytes',
      help: 'Bytes handed to the sha256 worker threads and not hashed yet.',
      registers,
      collect() {
        this.set(queued());
      },
    });
  }

  /** Where the gauges read from (the upload service's slots, hash chains and threads), at scrape time. */
  watch(source: GaugeSource): void {
    this.source = source;
  }

  stored(kind: UploadKind, bytes: number): void {
    if (bytes > 0) this.bytes.inc({ kind }, bytes);
    this.requests.inc({ kind, result: 'ok' });
  }

  failed(kind: UploadKind, err: unknown): void {
    const status = err instanceof AppException ? httpStatusFor(err.code) : 500;
    this.requests.inc({ kind, result: status < 500 ? 'refused' : 'failed' });
  }

  hashed(inStream: number, reread: number): void {
    if (inStream > 0) this.sha256Bytes.inc({ how: 'stream' }, inStream);
    if (reread > 0) this.sha256Bytes.inc({ how: 'reread' }, reread);
  }

  chainLost(): void {
    this.chainsLost.inc();
  }

  verified(outcome: 'ready' | 'failed'): void {
    this.verifications.inc({ outcome });
  }
}
