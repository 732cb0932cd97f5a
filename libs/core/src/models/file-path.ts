import { FieldIssue } from '@troupe/common';

const MAX_PATH = 1024;
const MAX_SEGMENT = 255;

/**
 * Checks a file path inside a model version as a user gave it. Relative, '/'-separated, no empty, '.'
 * or '..' segments, no backslashes, no control characters: a path can never leave its version's prefix
 * in object storage nor its directory on a pod.
 */
export function filePathIssues(path: string): FieldIssue[] {
  const problem = (message: string): FieldIssue[] => [{ field: 'path', message }];
  if (path.length === 0) return problem('must not be empty');
  if (path.length > MAX_PATH) return problem(`must be at most ${MAX_PATH} characters`);
  if (path.startsWith('/')) return problem('must be relative (no leading "/")');
  if (path.includes('\\')) return problem('must use "/" as separator (no "\\")');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return problem('must not contain control characters');
  for (const segment of path.split('/')) {
    if (segment === '') return problem('must not contain empty segments ("//" or a trailing "/")');
    if (segment === '.' || segment === '..') return problem('must not contain "." or ".." segments');
    if (segment.length > MAX_SEGMENT) return problem(`segments must be at most ${MAX_SEGMENT} characters`);
  }
  return [];
}
