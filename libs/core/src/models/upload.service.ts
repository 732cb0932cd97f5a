import { createHash } from 'node:crypto';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { AppException, ErrorCode } from '@troupe/common';
import { AppConfig, InjectConfig } from '@troupe/config';
import { MultipartPart, ObjectStorage, objectKey } from '@troupe/storage';
import { Principal, scopeOf } from '../auth/principal';
import { filePathIssues } from './file-path';
import { ModelException } from './model.exception';
import { ModelMetrics, UploadKind } from './model.metrics';
import { UploadSlots } from './upload-slots';
import { ModelRepository, VersionRow } from './model.repository';
import { ModelService } from './model.service';
import { FileView, ModelRef, UploadSessionView } from './model.types';
import { partLength, planParts } from './part-plan';
import { SessionRow, UploadRepository } from './upload.repository';
import { HashChains, PartTap } from './hash-chains';
import { Sha256Threads } from './sha256-threads';
import { inThreadSha256, Sha256Factory } from './whole-file-hash';

const SHA256_RE = /^[0-9a-f]{64}$/;

export interface CompletedUpload extends FileView {
  /** Bytes hashed while they streamed in vs. read back from storage at completion. */
  hashedInStream: number;
  rehashedFromStorage: number;
}

/** Counts and hashes bytes as they pass, failing once more than `limit` bytes went through. */
class MeteredHash extends Transform {
  readonly sha = createHash('sha256');
  bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly onLimit: () => Error,
    private readonly tap?: PartTap,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(this.onLimit());
    this.sha.update(chunk);
    const waiting = this.tap?.write(chunk);
    if (waiting) waiting.then(() => done(null, chunk), done);
    else done(null, chunk);
  }
}

/**
 * Getting weights into object storage: the streaming PUT of one file, and resumable multipart
 * sessions for large ones. Bytes flow from the socket to S3 with bounded memory (at most two parts in
 * memory for the streaming PUT, none for session parts), sha256 is computed on the fly, and nothing is
 * recorded as a file unless every byte arrived and matched the checksum the client gave.
 */
@Injectable()
export class UploadService implements OnModuleDestroy {
  private readonly logger = new Logger(UploadService.name);
  /** The whole-file sha256 runs on worker threads: hash-wasm at upload speed would hold the event loop. */
  private readonly sha256: Sha256Factory;
  private readonly threads?: Sha256Threads;
  private readonly hashChains: HashChains;
  private readonly slots: UploadSlots;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly models: ModelRepository,
    private readonly uploads: UploadRepository,
    private readonly modelService: ModelService,
    private readonly storage: ObjectStorage,
    private readonly metrics: ModelMetrics,
  ) {
    if (config.uploads.hashThreads > 0) this.threads = new Sha256Threads(config.uploads.hashThreads);
    this.sha256 = this.threads ?? inThreadSha256;
    this.hashChains = new HashChains(config.uploads.hashHoldBytes, undefined, this.sha256);
    this.slots = new UploadSlots(config.uploads.maxConcurrent, config.uploads.maxConcurrentPerProject);
    metrics.watch({
      inProgress: () => this.slots.inUse,
      held: () => this.hashChains.held,
      queued: () => this.threads?.queuedBytes ?? 0,
    });
  }

  /** Runs `run` in one of the project's upload slots; 429 with Retry-After when none is free. */
  private async inSlot<T>(projectId: string, run: () => Promise<T>): Promise<T> {
    const slot = this.slots.take(projectId);
    if ('refused' in slot)
      throw new AppException(
        ErrorCode.RateLimited,
        `Too many uploads at once: ${slot.refused}; retry shortly`,
        {
          retryAfterSeconds: 1,
        },
      );
    try {
      return await run();
    } finally {
      slot.release();
    }
  }

  /** Runs one upload request, counting its bytes and its result (ok, refused, failed). */
  private async observed<T>(kind: UploadKind, run: () => Promise<T>, bytes: (r: T) => number): Promise<T> {
    try {
      const result = await run();
      this.metrics.stored(kind, bytes(result));
      return result;
    } catch (err) {
      this.metrics.failed(kind, err);
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Streaming PUT of one file

  putFile(
    ref: ModelRef,
    version: string,
    path: string,
    body: Readable,
    headers: { contentLength?: number; sha256?: string },
  ): Promise<FileView> {
    return this.observed(
      'file',
      () => this.inSlot(ref.projectId, () => this.storeFile(ref, version, path, body, headers)),
      (f) => f.size,
    );
  }

  private async storeFile(
    ref: ModelRef,
    version: string,
    path: string,
    body: Readable,
    headers: { contentLength?: number; sha256?: string },
  ): Promise<FileView> {
    const expected = this.checkSha256Header(headers.sha256);
    this.checkPath(path);
    const row = await this.writableVersion(ref, version);
    const limits = this.config.uploads;
    const budget = Math.min(limits.maxFileBytes, await this.versionBudget(row, path));
    const tooLarge = () =>
      budget < limits.maxFileBytes
        ? ModelException.versionTooLarge(limits.maxVersionBytes)
        : ModelException.fileTooLarge(limits.maxFileBytes);
    if (headers.contentLength !== undefined && headers.contentLength > budget) throw tooLarge();

    const key = objectKey(ref.projectId, ref.name, version, path);
    const partSize = planParts(headers.contentLength ?? 0, limits.partBytes).partSize;
    const sha = createHash('sha256');
    let total = 0;

    // Two part-sized buffers: one fills from the socket while the other uploads.
    const slots = [Buffer.allocUnsafe(partSize), Buffer.allocUnsafe(0)];
    let slot = 0;
    let filled = 0;
    let uploadId: string | undefined;
    let nextPart = 1;
    const parts: MultipartPart[] = [];
    let inFlight: Promise<void> | undefined;

    const flush = async () => {
      uploadId ??= await this.storage.initiateMultipart(key, { contentType: 'application/octet-stream' });
      const partNumber = nextPart++;
      const data = slots[slot].subarray(0, filled);
      await inFlight;
      const id = uploadId;
      // As a stream the driver signs UNSIGNED-PAYLOAD: the bytes are already hashed once here (sha256 above)
      // and S3 checks each part's MD5; a signed payload would hash every byte a second time.
      inFlight = this.storage
        .uploadPart(key, id, partNumber, Readable.from([data]), data.length)
        .then(({ etag }) => {
          parts.push({ partNumber, etag });
        });
      // Keep the promise observed so a failure surfaces at the next await, not as unhandled.
      inFlight.catch(() => undefined);
      slot = 1 - slot;
      if (slots[slot].length !== partSize) slots[slot] = Buffer.allocUnsafe(partSize);
      filled = 0;
    };

    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > budget) throw tooLarge();
        sha.update(chunk);
        let offset = 0;
        while (offset < chunk.length) {
          const n = Math.min(chunk.length - offset, partSize - filled);
          chunk.copy(slots[slot], filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled === partSize) await flush();
        }
      }
      if (headers.contentLength !== undefined && total !== headers.contentLength) {
        throw AppException.validation([
          { field: 'content-length', message: `announced ${headers.contentLength} bytes, received ${total}` },
        ]);
      }
      const actual = sha.digest('hex');
      if (expected && expected !== actual) throw ModelException.checksumMismatch(expected, actual);

      if (uploadId === undefined) {
        // The whole file fitted in one part: verified above, written with one PUT.
        await this.storage.putObject(key, slots[slot].subarray(0, filled), filled, {
          contentType: 'application/octet-stream',
        });
      } else {
        if (filled > 0) await flush();
        await inFlight;
        await this.storage.completeMultipart(key, uploadId, parts);
      }
      await this.models.upsertFile(row.id, path, total, actual);
      return { path, size: total, sha256: actual };
    } catch (err) {
      if (uploadId !== undefined) {
        await inFlight?.catch(() => undefined);
        await this.storage
          .abortMultipart(key, uploadId)
          .catch((e: Error) => this.logger.warn(`abort ${key}: ${e.message}`));
      }
      throw this.asClientError(err);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Resumable sessions

  async createSession(
    ref: ModelRef,
    version: string,
    input: { path: string; size: number; sha256?: string },
  ): Promise<UploadSessionView> {
    this.checkPath(input.path);
    const expected = input.sha256 ? this.checkSha256Header(input.sha256, 'sha256') : undefined;
    const row = await this.writableVersion(ref, version);
    const limits = this.config.uploads;
    if (input.size > limits.maxFileBytes) throw ModelException.fileTooLarge(limits.maxFileBytes);
    if (input.size > (await this.versionBudget(row, input.path)))
      throw ModelException.versionTooLarge(limits.maxVersionBytes);

    const plan = planParts(input.size, limits.partBytes);
    const key = objectKey(ref.projectId, ref.name, version, input.path);
    const s3UploadId = await this.storage.initiateMultipart(key, { contentType: 'application/octet-stream' });
    const session = await this.uploads.create({
      projectId: ref.projectId,
      versionId: row.id,
      path: input.path,
      objectKey: key,
      s3UploadId,
      size: input.size,
      partSize: plan.partSize,
      partCount: plan.partCount,
      expectedSha256: expected ?? null,
      expiresAt: new Date(Date.now() + limits.sessionTtlMs),
    });
    return this.mapSession(session);
  }

  async getSession(principal: Principal, id: string): Promise<UploadSessionView> {
    return this.mapSession(await this.requireSession(principal, id));
  }

  /**
   * Stores part n. The part's bytes stream straight to S3 (no buffering); its sha256 is checked
   * against `x-content-sha256` when given. Retries replace the part.
   */
  uploadPart(
    principal: Principal,
    id: string,
    partNumber: number,
    body: Readable,
    headers: { contentLength?: number; sha256?: string },
  ): Promise<UploadSessionView['parts'][number]> {
    return this.observed(
      'part',
      () => this.storePart(principal, id, partNumber, body, headers),
      (p) => p.size,
    );
  }

  private async storePart(
    principal: Principal,
    id: string,
    partNumber: number,
    body: Readable,
    headers: { contentLength?: number; sha256?: string },
  ): Promise<UploadSessionView['parts'][number]> {
    const expected = this.checkSha256Header(headers.sha256);
    const session = await this.requireOpenSession(principal, id);
    return this.inSlot(session.projectId, () =>
      this.receivePart(session, partNumber, body, expected, headers),
    );
  }

  private async receivePart(
    session: SessionRow,
    partNumber: number,
    body: Readable,
    expected: string | undefined,
    headers: { contentLength?: number },
  ): Promise<UploadSessionView['parts'][number]> {
    const size = Number(session.size);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > session.partCount) {
      throw AppException.validation([
        { field: 'partNumber', message: `must be between 1 and ${session.partCount}` },
      ]);
    }
    const length = partLength({ partSize: session.partSize, partCount: session.partCount }, size, partNumber);
    if (headers.contentLength !== undefined && headers.contentLength !== length) {
      throw AppException.validation([
        {
          field: 'content-length',
          message: `part ${partNumber} must be exactly ${length} bytes (got ${headers.contentLength})`,
        },
      ]);
    }

    const tap = await this.hashChains.tap(session.id, partNumber, () =>
      this.uploads.hashChainStart(session.id),
    );
    const meter = new MeteredHash(
      length,
      () =>
        AppException.validation([
          { field: 'body', message: `part ${partNumber} must be exactly ${length} bytes` },
        ]),
      tap,
    );
    body.on('error', (err) => meter.destroy(err));
    let sha256: string;
    let etag: string;
    try {
      ({ etag } = await this.storage.uploadPart(
        session.objectKey,
        session.s3UploadId,
        partNumber,
        body.pipe(meter),
        length,
      ));
      // A body that ended early without an error (a client that went away) must not be taken for
      // the part: its bytes would enter the whole-file hash and the assembled object.
      if (meter.bytes !== length) {
        throw AppException.validation([
          {
            field: 'body',
            message: `part ${partNumber} must be exactly ${length} bytes (received ${meter.bytes})`,
          },
        ]);
      }
      sha256 = meter.sha.digest('hex');
      if (expected && expected !== sha256) throw ModelException.checksumMismatch(expected, sha256);
    } catch (err) {
      if (tap.fail()) this.hashChains.drop(session.id);
      throw this.asClientError(err);
    }
    const { changedBytes } = await this.uploads.savePart(session.id, {
      partNumber,
      size: length,
      etag,
      sha256,
      hashState: null,
    });
    if (changedBytes) {
      // A retry with other bytes than the ones already hashed: the chain restarts from the database.
      tap.fail();
      this.hashChains.drop(session.id);
    } else {
      let states: Map<number, Uint8Array> | undefined;
      try {
        states = await tap.succeed();
      } catch (err) {
        // Hashing failed (a worker thread died): the part is stored all the same; completion reads
        // back what the chain can no longer vouch for.
        this.logger.warn(
          `upload ${session.id}: whole-file hash chain lost (${String(err)}); completion will re-read`,
        );
        this.hashChains.drop(session.id);
        this.metrics.chainLost();
      }
      if (states) await this.uploads.saveHashStates(session.id, states);
    }
    return { partNumber, size: length, etag, sha256 };
  }

  /**
   * Assembles the parts into the file. The whole-file sha256 continues from the state saved with the
   * longest run of parts hashed in sequence; only the parts after it are read back from storage.
   */
  complete(principal: Principal, id: string): Promise<CompletedUpload> {
    return this.observed(
      'complete',
      () => this.assemble(principal, id),
      () => 0,
    );
  }

  private async assemble(principal: Principal, id: string): Promise<CompletedUpload> {
    const session = await this.requireSession(principal, id);
    if (session.state === 'COMPLETED') {
      const file = await this.models.findVersionById(session.versionId);
      const f = file?.files.find((x) => x.path === session.path);
      if (f)
        return {
          path: f.path,
          size: Number(f.size),
          sha256: f.sha256,
          hashedInStream: 0,
          rehashedFromStorage: 0,
        };
    }
    if (session.state !== 'ACTIVE') throw ModelException.sessionClosed(session.state);
    if (session.expiresAt < new Date()) throw ModelException.sessionExpired();
    const size = Number(session.size);
    const missing: number[] = [];
    for (let n = 1; n <= session.partCount; n++)
      if (!session.parts.find((p) => p.partNumber === n)) missing.push(n);
    if (missing.length > 0) {
      throw new AppException(
        ErrorCode.Conflict,
        `Parts not received yet: ${summarize(missing)} of ${session.partCount}`,
      );
    }

    await this.storage.completeMultipart(
      session.objectKey,
      session.s3UploadId,
      session.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
    );

    let chainEnd = 0;
    while (chainEnd < session.partCount && session.parts[chainEnd].hashState) chainEnd++;
    const hasher = await this.sha256.start(chainEnd > 0 ? session.parts[chainEnd - 1].hashState : null);
    let rehashed = 0;
    let sha256: string;
    try {
      if (chainEnd < session.partCount) {
        const start = chainEnd * session.partSize;
        const stream = await this.storage.getObject(session.objectKey, { start, end: size });
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          const behind = hasher.update(chunk);
          if (behind) await behind;
          rehashed += chunk.length;
        }
      }
      sha256 = await hasher.digestHex();
    } finally {
      hasher.dispose();
    }
    if (session.expectedSha256 && session.expectedSha256 !== sha256) {
      await this.storage.deleteObject(session.objectKey);
      await this.uploads.close(session.id, 'ACTIVE', 'ABORTED');
      throw ModelException.checksumMismatch(session.expectedSha256, sha256);
    }
    await this.models.upsertFile(session.versionId, session.path, size, sha256);
    await this.uploads.close(session.id, 'ACTIVE', 'COMPLETED');
    this.hashChains.drop(session.id);
    this.metrics.hashed(size - rehashed, rehashed);
    return {
      path: session.path,
      size,
      sha256,
      hashedInStream: size - rehashed,
      rehashedFromStorage: rehashed,
    };
  }

  async onModuleDestroy(): Promise<void> {
    await this.threads?.close();
  }

  async abort(principal: Principal, id: string): Promise<void> {
    const session = await this.requireSession(principal, id);
    if (session.state !== 'ACTIVE') return;
    await this.storage.abortMultipart(session.objectKey, session.s3UploadId);
    await this.uploads.close(session.id, 'ACTIVE', 'ABORTED');
    this.hashChains.drop(session.id);
  }

  /** Aborts sessions past their TTL, in S3 and here. Returns how many. */
  async expireSessions(now = new Date()): Promise<number> {
    let count = 0;
    for (;;) {
      const batch = await this.uploads.listExpired(now, 100);
      if (batch.length === 0) return count;
      for (const s of batch) {
        const outcome = await this.storage.abortMultipart(s.objectKey, s.s3UploadId);
        if (outcome === 'not-supported')
          this.logger.warn(
            `object storage cannot abort ${s.objectKey}; its parts stay until the store expires them`,
          );
        if (await this.uploads.close(s.id, 'ACTIVE', 'ABORTED')) count++;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  private async writableVersion(ref: ModelRef, version: string): Promise<VersionRow> {
    const row = await this.modelService.requireVersion(ref, version);
    if (row.state !== 'UPLOADING' && row.state !== 'FAILED')
      throw ModelException.versionNotWritable(version, row.state);
    return row;
  }

  /** Bytes this file may still take without the version going over its limit. */
  private async versionBudget(row: VersionRow, path: string): Promise<number> {
    const used =
      (await this.models.versionBytes(row.id, path)) + (await this.uploads.reservedBytes(row.id, path));
    return Math.max(0, this.config.uploads.maxVersionBytes - used);
  }

  private async requireSession(principal: Principal, id: string): Promise<SessionRow> {
    const session = /^[0-9a-f-]{36}$/i.test(id) ? await this.uploads.find(scopeOf(principal), id) : null;
    if (!session) throw ModelException.uploadNotFound();
    return session;
  }

  private async requireOpenSession(principal: Principal, id: string): Promise<SessionRow> {
    const session = await this.requireSession(principal, id);
    if (session.state !== 'ACTIVE') throw ModelException.sessionClosed(session.state);
    if (session.expiresAt < new Date()) throw ModelException.sessionExpired();
    return session;
  }

  private checkPath(path: string): void {
    const issues = filePathIssues(path);
    if (issues.length > 0) throw AppException.validation(issues);
  }

  private checkSha256Header(value: string | undefined, field = 'x-content-sha256'): string | undefined {
    if (value === undefined) return undefined;
    const v = value.toLowerCase();
    if (!SHA256_RE.test(v))
      throw AppException.validation([{ field, message: 'must be 64 hexadecimal characters (a sha256)' }]);
    return v;
  }

  /** A client that went away mid-body shows up as a stream error: report it as such, not as a 500. */
  private asClientError(err: unknown): unknown {
    if (err instanceof AppException) return err;
    const code = (err as { code?: string }).code;
    if (
      code === 'ECONNRESET' ||
      code === 'ERR_STREAM_PREMATURE_CLOSE' ||
      (err as Error).message === 'aborted'
    ) {
      return AppException.validation([
        { field: 'body', message: 'the connection closed before the whole body arrived; nothing was kept' },
      ]);
    }
    return err;
  }

  private mapSession(s: SessionRow): UploadSessionView {
    return {
      uploadId: s.id,
      path: s.path,
      size: Number(s.size),
      partSize: s.partSize,
      partCount: s.partCount,
      state: s.state,
      parts: s.parts.map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag, sha256: p.sha256 })),
      expiresAt: s.expiresAt.toISOString(),
      createdAt: s.createdAt.toISOString(),
    };
  }
}

function summarize(numbers: number[]): string {
  return numbers.length <= 10
    ? numbers.join(', ')
    : `${numbers.slice(0, 10).join(', ')} and ${numbers.length - 10} more`;
}
