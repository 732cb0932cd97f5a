import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform, TransformCallback } from 'node:stream';

/** A local file could not be read as planned (gone, unreadable, or changed size): not worth a retry. */
export class LocalFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalFileError';
  }
}

function rangeStream(path: string, start: number, size: number, highWaterMark: number): Readable {
  if (size === 0) return Readable.from([]);
  return createReadStream(path, { start, end: start + size - 1, highWaterMark });
}

/**
 * Exactly `size` bytes of `path` from `start`, as a stream for a request body: bounded memory (one
 * chunk at a time), `onBytes` called as chunks go out; a short read (the file shrank) or a read error
 * becomes a LocalFileError.
 */
export function readRange(
  path: string,
  start: number,
  size: number,
  onBytes?: (n: number) => void,
): Readable {
  const source = rangeStream(path, start, size, 1024 * 1024);
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      seen += chunk.length;
      onBytes?.(chunk.length);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (seen !== size)
        cb(new LocalFileError(`${path} changed during the upload (read ${seen} of ${size} bytes)`));
      else cb();
    },
  });
  source.on('error', (err) => counter.destroy(new LocalFileError(`cannot read ${path}: ${err.message}`)));
  counter.on('close', () => source.destroy());
  return source.pipe(counter);
}

/** sha256 (hex) of `size` bytes of `path` from `start`, reading in 1 MiB chunks. */
export async function sha256Range(
  path: string,
  start: number,
  size: number,
  signal?: AbortSignal,
): Promise<string> {
  const hash = createHash('sha256');
  let seen = 0;
  try {
    for await (const chunk of rangeStream(path, start, size, 1024 * 1024)) {
      signal?.throwIfAborted();
      hash.update(chunk as Buffer);
      seen += (chunk as Buffer).length;
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new LocalFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (seen !== size)
    throw new LocalFileError(`${path} changed during the upload (read ${seen} of ${size} bytes)`);
  return hash.digest('hex');
}
