export * from './prisma.service';
export * from './prisma-errors';
export * from './db.module';
export { Prisma } from './generated/client';
export type { Project, ApiKey } from './generated/client';
export { ApiKeyRole } from './generated/client';
