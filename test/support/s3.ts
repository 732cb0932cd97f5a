import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'minio';
import { startS3Server } from '../../libs/testing/src';

export interface TestS3 {
  env: Record<string, string>;
  client: Client;
  bucket: string;
  /** The object's bytes, or null when it does not exist. */
  read(key: string): Promise<Buffer | null>;
  /** Stops the server, keeping its data: the store goes away, as in an outage. */
  pause(): Promise<void>;
  /** Starts it again on the same address with the same data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** A file-backed S3 server (s3rver) on loopback for one suite, with a client to inspect what it holds. */
export async function startTestS3(): Promise<TestS3> {
  const dir = mkdtempSync(path.join(tmpdir(), 'troupe-s3-'));
  const bucket = 'troupe-test';
  let s3: Awaited<ReturnType<typeof startS3Server>> | undefined = await startS3Server({
    directory: dir,
    bucket,
  });
  const endpoint = s3.endpoint;
  const url = new URL(endpoint);
  const client = new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    region: 'us-east-1',
  });
  return {
    env: {
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: bucket,
    },
    client,
    bucket,
    async read(key) {
      try {
        const stream = await client.getObject(bucket, key);
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      } catch (err) {
        if ((err as { code?: string }).code === 'NoSuchKey') return null;
        throw err;
      }
    },
    async pause() {
      await s3?.stop();
      s3 = undefined;
    },
    async resume() {
      s3 ??= await startS3Server({ directory: dir, bucket, port: Number(url.port) });
    },
    async stop() {
      await s3?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
