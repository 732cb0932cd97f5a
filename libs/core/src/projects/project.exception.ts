import { AppException, ErrorCode } from '@troupe/common';

export class ProjectException extends AppException {
  static override notFound(): ProjectException {
    return new ProjectException(ErrorCode.NotFound, 'Project not found');
  }

  static nameTaken(name: string): ProjectException {
    return new ProjectException(ErrorCode.Conflict, `A project named "${name}" already exists`);
  }
}
