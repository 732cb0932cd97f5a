import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { AppException, ErrorCode } from '@troupe/common';
import { ObjectStorage, objectKey } from '@troupe/storage';
import { ModelRepository, VersionRow } from './model.repository';
import { ModelService } from './model.service';
import {
  CONFIG_FILE,
  headerLength,
  INDEX_FILE,
  ParsedHeader,
  parseHeader,
  parseSafetensorsIndex,
  SafetensorsIndex,
  VerificationError,
  verifyCheckpoint,
  weightFiles,
} from './verification';

const MAX_JSON_BYTES = 64 * 1024 * 1024;

async function readAll(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      stream.destroy();
      throw new VerificationError(`${what} is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Decides whether an uploaded version is servable, reading as little as possible from storage: the
 * JSON files, and of each safetensors shard only its 8-byte length and its header (two ranged GETs),
 * never the tensor data. The decision itself is the pure `verifyCheckpoint`.
 */
@Injectable()
export class VerificationService {
  constructor(
    private readonly models: ModelRepository,
    private readonly modelService: ModelService,
    private readonly storage: ObjectStorage,
  ) {}

  /** Idempotent: a version that is not VERIFYING (already decided, or deleted) is left alone. */
  async verify(versionId: string): Promise<'READY' | 'FAILED' | 'skipped'> {
    const version = await this.models.findVersionById(versionId);
    if (!version || version.state !== 'VERIFYING') return 'skipped';
    const key = (path: string) => objectKey(version.projectId, version.model.name, version.version, path);
    const files = version.files.map((f) => ({ path: f.path, size: Number(f.size) }));

    const reasons: string[] = [];
    // Every recorded file must really be in storage with the recorded size.
    for (const f of files) {
      const stat = await this.storage.stat(key(f.path));
      if (!stat) reasons.push(`${f.path}: recorded but missing from object storage; upload it again`);
      else if (stat.size !== f.size)
        reasons.push(
          `${f.path}: object storage holds ${stat.size} bytes, ${f.size} were recorded; upload it again`,
        );
    }

    const config = await this.readText(version, CONFIG_FILE, key);
    const indexText = await this.readText(version, INDEX_FILE, key);
    let index: SafetensorsIndex | undefined;
    if (indexText !== undefined) {
      try {
        index = parseSafetensorsIndex(indexText);
      } catch (err) {
        if (!(err instanceof VerificationError)) throw err;
        // verifyCheckpoint reports the index problem itself.
      }
    }

    const headers = new Map<string, ParsedHeader | VerificationError>();
    for (const path of weightFiles(files, index)) {
      const size = files.find((f) => f.path === path)!.size;
      headers.set(path, await this.readHeader(key(path), path, size));
    }

    const result = verifyCheckpoint({ files, config, index: indexText, headers });
    const outcome =
      result.ok && reasons.length === 0
        ? { ok: true, metadata: result.metadata }
        : { ok: false, reason: [...reasons, ...(result.ok ? [] : result.reasons)].join('; ') };
    await this.modelService.recordVerification(version.id, outcome);
    return outcome.ok ? 'READY' : 'FAILED';
  }

  /** Marks a version FAILED when verification itself could not run after every retry. */
  async giveUp(versionId: string, error: string): Promise<void> {
    await this.modelService.recordVerification(versionId, {
      ok: false,
      reason: `verification could not complete (${error}); finalize again to retry`,
    });
  }

  private async readText(
    version: VersionRow,
    path: string,
    key: (p: string) => string,
  ): Promise<string | undefined> {
    if (!version.files.some((f) => f.path === path)) return undefined;
    return (await readAll(await this.storage.getObject(key(path)), MAX_JSON_BYTES, path)).toString('utf8');
  }

  private async readHeader(
    key: string,
    path: string,
    size: number,
  ): Promise<ParsedHeader | VerificationError> {
    try {
      const first8 = await readAll(
        await this.storage.getObject(key, { start: 0, end: Math.min(8, size) }),
        8,
        path,
      );
      const n = headerLength(first8, size, path);
      const json = await readAll(await this.storage.getObject(key, { start: 8, end: 8 + n }), n, path);
      return parseHeader(json, size, n, path);
    } catch (err) {
      if (err instanceof VerificationError) return err;
      if (err instanceof AppException && err.code === ErrorCode.NotFound) {
        return new VerificationError('missing from object storage; upload it again', path);
      }
      throw err; // storage unavailable: let the job retry
    }
  }
}
