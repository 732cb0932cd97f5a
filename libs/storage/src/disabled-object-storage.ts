import { AppException, ErrorCode } from '@troupe/common';
import { AbortOutcome, ObjectListing, ObjectStat, ObjectStorage, StoredPart } from './object-storage';

export const STORAGE_NOT_CONFIGURED =
  'object storage is not configured: set S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY';

function notConfigured(): never {
  throw new AppException(ErrorCode.DependencyUnavailable, STORAGE_NOT_CONFIGURED);
}

/** Provided when S3 is not configured: the process runs, and every storage operation says what to set. */
export class DisabledObjectStorage extends ObjectStorage {
  readonly configured = false;

  async ensureBucket(): Promise<void> {
    notConfigured();
  }
  async ping(): Promise<void> {
    notConfigured();
  }
  async initiateMultipart(): Promise<string> {
    notConfigured();
  }
  async uploadPart(): Promise<{ etag: string }> {
    notConfigured();
  }
  async completeMultipart(): Promise<{ etag: string }> {
    notConfigured();
  }
  async abortMultipart(): Promise<AbortOutcome> {
    notConfigured();
  }
  async listParts(): Promise<StoredPart[]> {
    notConfigured();
  }
  async putObject(): Promise<{ etag: string }> {
    notConfigured();
  }
  async stat(): Promise<ObjectStat | null> {
    notConfigured();
  }
  async getObject(): Promise<never> {
    notConfigured();
  }
  async presignedGetUrl(): Promise<string> {
    notConfigured();
  }
  async presignedPartUrl(): Promise<string> {
    notConfigured();
  }
  async deleteObject(): Promise<void> {
    notConfigured();
  }
  async deletePrefix(): Promise<number> {
    notConfigured();
  }
  async listObjects(): Promise<ObjectListing[]> {
    notConfigured();
  }
}
