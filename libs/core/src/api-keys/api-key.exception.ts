import { AppException, ErrorCode } from '@troupe/common';

export class ApiKeyException extends AppException {
  static override notFound(): ApiKeyException {
    return new ApiKeyException(ErrorCode.NotFound, 'API key not found');
  }

  static adminKeyWithProject(): AppException {
    return ApiKeyException.validation([
      { field: 'projectId', message: 'admin keys act on every project and must not name one' },
    ]);
  }

  static projectRequired(): AppException {
    return ApiKeyException.validation([
      { field: 'projectId', message: 'required for member and inference keys' },
    ]);
  }

  static roleNotGrantable(role: string): ApiKeyException {
    return new ApiKeyException(ErrorCode.Forbidden, `Your key may not create keys with role "${role}"`);
  }

  static expiryInPast(): AppException {
    return ApiKeyException.validation([{ field: 'expiresAt', message: 'must be in the future' }]);
  }
}
