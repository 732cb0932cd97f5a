import { describe, expect, it } from 'vitest';
import { filePathIssues } from './file-path';

describe('filePathIssues', () => {
  it.each([
    'config.json',
    'model-00001-of-00004.safetensors',
    'tokenizer/vocab.json',
    'a b/c-d_e.f',
    'ü/日本.json',
  ])('accepts %j', (p) => expect(filePathIssues(p)).toEqual([]));

  it.each([
    ['', /empty/],
    ['/etc/passwd', /relative/],
    ['../x', /"\." or "\.\."/],
    ['a/../../x', /"\." or "\.\."/],
    ['a/./b', /"\." or "\.\."/],
    ['..', /"\." or "\.\."/],
    ['a//b', /empty segments/],
    ['a/', /empty segments/],
    ['a\\..\\b', /separator/],
    ['a\u0000b', /control/],
    ['a\nb', /control/],
    ['x'.repeat(1025), /at most 1024/],
    ['x'.repeat(256), /segments must be at most 255/],
  ])('refuses %j', (p, pattern) => {
    const issues = filePathIssues(p);
    expect(issues).toHaveLength(1);
    expect(issues[0].field).toBe('path');
    expect(issues[0].message).toMatch(pattern);
  });
});
