import { describe, expect, it } from 'vitest';
import { appDirProblem, baseImages, baseRecipeHash, buildArgv, importArgv, releaseId } from './plan.ts';

const inputs = {
  rootfsScript: 'echo base',
  packageVersions: { libc6: '2.36-9+deb12u14', 'ca-certificates': '20230311' },
  bunVersion: '1.4.5',
};

describe('image plan', () => {
  it('hashes the recipe: same inputs same tag, any change a new one', () => {
    const h = baseRecipeHash(inputs);
    expect(h).toMatch(/^[0-9a-f]{12}$/);
    expect(
      baseRecipeHash({
        ...inputs,
        packageVersions: { 'ca-certificates': '20230311', libc6: '2.36-9+deb12u14' },
      }),
    ).toBe(h);
    expect(baseRecipeHash({ ...inputs, bunVersion: '1.4.6' })).not.toBe(h);
    expect(
      baseRecipeHash({ ...inputs, packageVersions: { ...inputs.packageVersions, libc6: '2.36-9+deb12u15' } }),
    ).not.toBe(h);
    expect(baseImages(h)).toEqual({ runtime: `e2m/runtime-base:${h}`, builder: `e2m/bun-builder:${h}` });
  });

  it('builds the exact docker argv', () => {
    expect(importArgv('/tmp/r.tar', 'e2m/runtime-base:abc', { bun: '1.4.5' })).toEqual([
      'docker',
      'import',
      '--change',
      'LABEL bun="1.4.5"',
      '/tmp/r.tar',
      'e2m/runtime-base:abc',
    ]);
    expect(
      buildArgv({
        context: 'backend',
        tag: 'e2m/backend:r1',
        release: 'r1',
        gitSha: 'abc',
        sourceDateEpoch: 42,
        builderImage: 'b:1',
        runtimeImage: 'r:1',
      }),
    ).toEqual([
      'docker',
      'build',
      '--pull=false',
      '--build-arg',
      'BUILDER_IMAGE=b:1',
      '--build-arg',
      'RUNTIME_IMAGE=r:1',
      '--build-arg',
      'RELEASE=r1',
      '--build-arg',
      'GIT_SHA=abc',
      '--build-arg',
      'SOURCE_DATE_EPOCH=42',
      '--tag',
      'e2m/backend:r1',
      'backend',
    ]);
  });

  it('makes release ids that sort by commit time and name the commit', () => {
    expect(releaseId(new Date('2026-11-23T03:45:02Z'), 'f4311cadeadbeef', false)).toBe(
      '20261123T034502-f4311ca',
    );
    expect(releaseId(new Date('2026-11-23T03:45:02Z'), 'f4311cadeadbeef', true)).toBe(
      '20261123T034502-f4311ca-dirty',
    );
    expect(releaseId(new Date('2026-11-23T03:45:02Z'), 'f4311cadeadbeef', false, 'byo_Bun')).toBe(
      '20261123T034502-f4311ca-byo-bun',
    );
  });

  it('refuses an --app directory that is missing or has no Dockerfile, naming which', () => {
    expect(appDirProblem('examples/x', { dir: false, dockerfile: false })).toBe(
      '--app examples/x: no such directory',
    );
    expect(appDirProblem('examples/x', { dir: true, dockerfile: false })).toBe(
      '--app examples/x: no Dockerfile there; an app brings its own image recipe (docs/app-contract.md)',
    );
    expect(appDirProblem('examples/x', { dir: true, dockerfile: true })).toBeUndefined();
  });
});
