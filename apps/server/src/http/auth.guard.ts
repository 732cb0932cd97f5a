import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException, ErrorCode } from '@troupe/common';
import { AuthService, bearerToken, Role } from '@troupe/core';
import type { FastifyRequest } from 'fastify';
import { ALLOWED_ROLES, IS_PUBLIC } from './auth.decorators';

/**
 * Global guard: every route needs a valid key unless marked @Public, and a role the route lists with
 * @Roles. A route that lists no roles is closed to everyone: forgetting the decorator fails safe.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      throw new AppException(
        ErrorCode.Unauthenticated,
        'Missing API key: send "Authorization: Bearer <key>"',
      );
    }
    const principal = await this.auth.verify(token);
    if (!principal) throw new AppException(ErrorCode.Unauthenticated, 'Invalid, expired or revoked API key');
    req.principal = principal;

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ALLOWED_ROLES, targets) ?? [];
    if (!roles.includes(principal.role)) {
      throw new AppException(
        ErrorCode.Forbidden,
        `A key with role "${principal.role}" may not call this endpoint`,
      );
    }
    return true;
  }
}
