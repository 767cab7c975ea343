import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bunProductionComponents,
  debPurl,
  imageSbom,
  npmLockComponents,
  npmPurl,
  releaseSbomPath,
} from './sbom.ts';

const lock = `{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "app",
      "dependencies": { "a": "^1.0.0", "@s/b": "^2.0.0", },
      "devDependencies": { "dev-only": "^1.0.0", },
    },
  },
  "packages": {
    "a": ["a@1.0.0", "", { "dependencies": { "c": "^1.0.0" } }, "sha512-AAAA"],
    "@s/b": ["@s/b@2.0.0", "", { "dependencies": { "c": "^2.0.0" } }, "sha512-BBBB"],
    "@s/b/c": ["c@2.0.0", "", {}, "sha512-CCCC"],
    "c": ["c@1.0.0", "", {}, "sha512-DDDD"],
    "dev-only": ["dev-only@1.0.0", "", { "dependencies": { "c": "^1.0.0" } }, "sha512-EEEE"],
  }
}`;

describe('bunProductionComponents', () => {
  it('follows dependencies (nested versions first), leaves devDependencies out', () => {
    const c = bunProductionComponents(lock);
    expect(c.map((x) => x.purl)).toEqual([
      'pkg:npm/%40s/b@2.0.0',
      'pkg:npm/a@1.0.0',
      'pkg:npm/c@1.0.0',
      'pkg:npm/c@2.0.0',
    ]);
    expect(c.find((x) => x.name === '@s/b')?.dependsOn).toEqual(['pkg:npm/c@2.0.0']);
    expect(c[1].hashes).toEqual([{ alg: 'SHA-512', content: Buffer.from('AAAA', 'base64').toString('hex') }]);
  });

  it('on the real backend/bun.lock: the runtime dependencies, no type packages of our own', () => {
    const real = bunProductionComponents(
      readFileSync(join(import.meta.dirname, '../../../backend/bun.lock'), 'utf8'),
    );
    const names = new Set(real.map((c) => c.name));
    for (const n of ['koa', '@koa/router', '@mikro-orm/core', 'mysql2', 'ioredis', 'zod', '@sentry/bun'])
      expect(names).toContain(n);
    expect(names).not.toContain('@types/koa');
    expect(names).not.toContain('@types/bun');
  });
});

describe('npmLockComponents', () => {
  it('reads package-lock v3, marking dev packages', () => {
    const c = npmLockComponents(
      JSON.stringify({
        packages: {
          '': { name: 'root' },
          'node_modules/x': { version: '1.0.0', dev: true, integrity: 'sha512-AAAA' },
          'node_modules/x/node_modules/@y/z': { version: '2.0.0' },
        },
      }),
    );
    expect(c.map((x) => [x.purl, x.dev])).toEqual([
      ['pkg:npm/%40y/z@2.0.0', false],
      ['pkg:npm/x@1.0.0', true],
    ]);
  });
});

describe('imageSbom', () => {
  const facts = {
    image: 'e2m/backend:r1',
    release: 'r1',
    gitSha: 'abc',
    binarySha256: 'f'.repeat(64),
    bunVersion: '1.4.5',
    debian: [{ name: 'libc6', version: '2.36-9+deb12u14' }],
    timestamp: '2026-11-23T00:00:00.000Z',
  };
  it('is CycloneDX 1.5 with the bundled npm packages, Bun and Debian, and the same bytes each time', () => {
    const npm = bunProductionComponents(lock);
    const s = imageSbom(facts, npm) as Record<string, unknown> & { components: { purl: string }[] };
    expect(s).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1 });
    expect(s.components.map((c) => c.purl)).toEqual([
      ...npm.map((c) => c.purl),
      'pkg:npm/bun@1.4.5',
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12',
    ]);
    expect(JSON.stringify(imageSbom(facts, npm))).toBe(JSON.stringify(s));
    expect(String(s.serialNumber)).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const other = imageSbom({ ...facts, binarySha256: 'e'.repeat(64) }, npm) as { serialNumber: string };
    expect(other.serialNumber).not.toBe(s.serialNumber);
  });
  it('names purls and paths the usual way', () => {
    expect(npmPurl('@koa/router', '15.7.0')).toBe('pkg:npm/%40koa/router@15.7.0');
    expect(debPurl('ca-certificates', '20250419~deb12u2')).toBe(
      'pkg:deb/debian/ca-certificates@20250419~deb12u2?arch=amd64&distro=debian-12',
    );
    expect(releaseSbomPath('.releases', 'r1')).toBe('.releases/r1/sbom.cdx.json');
  });
});
