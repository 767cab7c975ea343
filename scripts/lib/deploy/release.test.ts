import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRelease, RELEASE_RULE } from './release.ts';

describe('checkRelease', () => {
  it("is the app's own RELEASE rule (backend/src/config.ts)", () => {
    const config = readFileSync(join(import.meta.dirname, '../../../backend/src/config.ts'), 'utf8');
    expect(config).toContain(`.regex(/${RELEASE_RULE.source}/`);
  });
  it('passes the ids the build makes', () => {
    expect(checkRelease('20261202T101500-abc1234-dirty', 'image label')).toBe(
      '20261202T101500-abc1234-dirty',
    );
  });
  it.each([
    ['v1\n}\nrespond 200', 'a newline'],
    ['../../etc/x', 'a slash'],
    ['..', 'a leading dot'],
    ['-rf', 'a leading dash'],
    ['', 'nothing'],
    ['a'.repeat(129), 'too long'],
  ])('refuses %j (%s), naming where it came from', (id) => {
    expect(() => checkRelease(id, 'image e2m/backend:x label org.opencontainers.image.version')).toThrow(
      /^image e2m\/backend:x label org\.opencontainers\.image\.version: release id .* is not valid/,
    );
  });
});
