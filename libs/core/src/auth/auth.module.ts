import { Global, Module } from '@nestjs/common';
import { ApiKeyCache } from '../api-keys/api-key.cache';
import { ApiKeyRepository } from '../api-keys/api-key.repository';
import { AuthService } from './auth.service';

@Global()
@Module({
  providers: [AuthService, ApiKeyRepository, ApiKeyCache],
  exports: [AuthService, ApiKeyRepository, ApiKeyCache],
})
export class AuthModule {}
