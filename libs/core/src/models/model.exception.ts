import { AppException, ErrorCode } from '@troupe/common';

export class ModelException extends AppException {
  static modelNotFound(name: string): ModelException {
    return new ModelException(ErrorCode.NotFound, `Model "${name}" not found`);
  }

  static versionNotFound(model: string, version: string): ModelException {
    return new ModelException(ErrorCode.NotFound, `Version "${version}" of model "${model}" not found`);
  }

  static uploadNotFound(): ModelException {
    return new ModelException(ErrorCode.NotFound, 'Upload session not found');
  }

  static modelExists(name: string): ModelException {
    return new ModelException(ErrorCode.Conflict, `A model named "${name}" already exists in this project`);
  }

  static versionExists(model: string, version: string): ModelException {
    return new ModelException(ErrorCode.Conflict, `Version "${version}" of model "${model}" already exists`);
  }

  static versionNotWritable(version: string, state: string): ModelException {
    return new ModelException(
      ErrorCode.Conflict,
      state === 'READY'
        ? `Version "${version}" is READY and immutable: create a new version to change its files`
        : `Version "${version}" is ${state}: files can be added only while it is UPLOADING or FAILED`,
    );
  }

  static uploadsInProgress(count: number): ModelException {
    return new ModelException(
      ErrorCode.Conflict,
      `${count} upload session(s) of this version are still open: complete or abort them before finalizing`,
    );
  }

  static noFiles(version: string): ModelException {
    return new ModelException(ErrorCode.Conflict, `Version "${version}" has no files to verify`);
  }

  static fileTooLarge(limit: number): ModelException {
    return new ModelException(
      ErrorCode.PayloadTooLarge,
      `File exceeds the ${limit}-byte limit per file; nothing was kept`,
    );
  }

  static versionTooLarge(limit: number): ModelException {
    return new ModelException(
      ErrorCode.PayloadTooLarge,
      `This upload would take the version over its ${limit}-byte limit; nothing was kept`,
    );
  }

  static checksumMismatch(expected: string, actual: string): AppException {
    return AppException.validation([
      {
        field: 'x-content-sha256',
        message: `checksum mismatch: expected ${expected}, received bytes hash to ${actual}; nothing was kept`,
      },
    ]);
  }

  static sessionClosed(state: string): ModelException {
    return new ModelException(ErrorCode.Conflict, `Upload session is ${state}`);
  }

  static sessionExpired(): ModelException {
    return new ModelException(ErrorCode.Conflict, 'Upload session expired and was aborted: start a new one');
  }

  static projectRequired(): AppException {
    return AppException.validation([
      { field: 'projectId', message: 'admin keys must name the project (?projectId= or in the body)' },
    ]);
  }
}
