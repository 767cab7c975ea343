import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The scan and the SBOM as CI runs them: the real osv-scanner, the real lockfiles, the real image.
// Real vulnerability data cannot be fetched here (docs/supply-chain.md), so the gate is proven
// with a small OSV database this test writes: the same files osv-scanner downloads, fewer entries.
const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const zx = join(root, 'node_modules/.bin/zx');
let tmp: string;
let image: string;

async function run(args: string[]) {
  try {
    const { stdout } = await exec(zx, ['scripts/supply-chain.mjs', ...args], {
      cwd: root,
      maxBuffer: 64 << 20,
    });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: `${err.stdout}${err.stderr}` };
  }
}
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop() ?? '{}');

/** An OSV database in osv-scanner's offline layout: <dir>/osv-scanner/<ecosystem>/all.zip. */
async function osvDb(dir: string, advisories: object[]) {
  // The image's SBOM also names Debian packages: an empty Debian database says "none known".
  for (const eco of ['npm', 'Debian']) await mkdir(join(dir, 'osv-scanner', eco), { recursive: true });
  const py = `import json,sys,zipfile
zipfile.ZipFile(sys.argv[2],'w').close()
z=zipfile.ZipFile(sys.argv[1],'w')
for a in json.load(sys.stdin): z.writestr(a['id']+'.json', json.dumps(a))
z.close()`;
  const child = execFile('python3', [
    '-c',
    py,
    join(dir, 'osv-scanner/npm/all.zip'),
    join(dir, 'osv-scanner/Debian/all.zip'),
  ]);
  child.stdin?.end(JSON.stringify(advisories));
  await new Promise((r, j) =>
    child.on('exit', (c) => (c === 0 ? r(null) : j(new Error(`python3 exited ${c}`)))),
  );
}

const advisory = (id: string, pkg: string, cvss: string, alias: string) => ({
  schema_version: '1.6.0',
  id,
  aliases: [alias],
  modified: '2026-01-01T00:00:00Z',
  published: '2026-01-01T00:00:00Z',
  summary: `test advisory for ${pkg}`,
  affected: [
    {
      package: { ecosystem: 'npm', name: pkg },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '999.0.0' }] }],
    },
  ],
  severity: [{ type: 'CVSS_V3', score: cvss }],
});
const CRITICAL = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
const LOW = 'CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N';

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2m-scan-'));
  image = process.env.E2M_SCAN_IMAGE ?? '';
  if (!image) {
    const { stdout } = await exec(
      zx,
      ['scripts/image.mjs', 'build', '--json', '--tag', 'e2m/backend:scan-test'],
      {
        cwd: root,
        maxBuffer: 64 << 20,
      },
    );
    image = lastJson(stdout).image;
  }
  await osvDb(join(tmp, 'db'), [
    advisory('GHSA-test-koa0-0001', 'koa', CRITICAL, 'CVE-2099-0001'),
    advisory('GHSA-test-zod0-0002', 'zod', LOW, 'CVE-2099-0002'),
    advisory('GHSA-test-vite-0003', 'vitest', CRITICAL, 'CVE-2099-0003'),
  ]);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('npm run sbom', () => {
  it('writes the image SBOM beside the release record: the bundled npm packages, Bun, Debian', async () => {
    const r = await run(['sbom', '--image', image, '--out', join(tmp, 'releases'), '--json']);
    expect(r.code, r.out).toBe(0);
    const { file, release } = lastJson(r.out);
    expect(file).toBe(join(tmp, 'releases', release, 'sbom.cdx.json'));
    const sbom = JSON.parse(await readFile(file, 'utf8'));
    expect(sbom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5' });
    const purls: string[] = sbom.components.map((c: { purl: string }) => c.purl);
    expect(purls).toContain('pkg:npm/koa@3.3.0');
    expect(purls.some((p) => p.startsWith('pkg:npm/bun@'))).toBe(true);
    expect(purls.some((p) => p.startsWith('pkg:deb/debian/libc6@'))).toBe(true);
    expect(purls.some((p) => p.startsWith('pkg:npm/%40types/koa@'))).toBe(false);
    expect(sbom.metadata.component.hashes[0].content).toMatch(/^[0-9a-f]{64}$/);
    // The same image gives the same bytes.
    const again = await run(['sbom', '--image', image, '--out', join(tmp, 'releases2'), '--json']);
    expect(await readFile(lastJson(again.out).file, 'utf8')).toBe(await readFile(file, 'utf8'));
  });
});

describe('npm run scan', () => {
  const scan = (policy: string, extra: string[] = []) =>
    run([
      'scan',
      '--image',
      image,
      '--db',
      join(tmp, 'db'),
      '--policy',
      policy,
      '--releases-dir',
      join(tmp, 'rel'),
      '--json',
      ...extra,
    ]);

  it('fails on a finding at or above fail_at, in both lockfiles, and reports the lower ones', async () => {
    const policy = join(tmp, 'strict.yml');
    await writeFile(policy, 'fail_at: high\nallow: []\n');
    const r = await scan(policy);
    expect(r.code, r.out).toBe(1);
    const s = lastJson(r.out);
    expect(s.data).toContain('local OSV database');
    expect(s.failing).toBeGreaterThanOrEqual(2); // koa (backend/bun.lock), vitest (package-lock.json)
    expect(r.out).toMatch(/FAIL.*critical.*GHSA-test-koa0-0001.*koa@3\.3\.0 \(backend\/bun\.lock\)/);
    expect(r.out).toMatch(/FAIL.*critical.*GHSA-test-vite-0003.*vitest@\S+ \(package-lock\.json\)/);
    expect(r.out).toMatch(/below.*low.*GHSA-test-zod0-0002.*zod@/);
    expect(r.out).toMatch(/FAIL.*critical.*GHSA-test-koa0-0001.*koa@3\.3\.0 \(image\)/);
    // The image's SBOM goes through the same scanner: the bundled koa is found there too.
    expect(r.out).toMatch(/FAIL.*critical.*GHSA-test-koa0-0001.*koa@3\.3\.0 \(image\)/);
    expect(r.out).toMatch(/debian libc6 \S+ in the image; apt offers \S+/);
  });

  it('passes when what fails is allow-listed with a reason, by alias, until it expires', async () => {
    const policy = join(tmp, 'allowed.yml');
    const entry = (id: string, expires: string) =>
      `  - id: ${id}\n    reason: test entry, the advisory is a fixture of this test\n    expires: "${expires}"\n`;
    await writeFile(
      policy,
      `fail_at: high\nallow:\n${entry('CVE-2099-0001', '2999-01-01')}${entry('GHSA-test-vite-0003', '2999-01-01')}`,
    );
    const r = await scan(policy);
    expect(r.code, r.out).toBe(0);
    expect(lastJson(r.out)).toMatchObject({ failing: 0, allowed: expect.any(Number) });
    expect(lastJson(r.out).allowed).toBeGreaterThanOrEqual(2);

    await writeFile(
      policy,
      `fail_at: high\nallow:\n${entry('CVE-2099-0001', '2020-01-01')}${entry('GHSA-test-vite-0003', '2999-01-01')}`,
    );
    const expired = await scan(policy);
    expect(expired.code).toBe(1);
    expect(expired.out).toContain('allow-list entry CVE-2099-0001 expired on 2020-01-01');
  });

  it('rejects an allow-list entry without a reason, naming it', async () => {
    const policy = join(tmp, 'bad.yml');
    await writeFile(policy, 'fail_at: high\nallow:\n  - id: GHSA-x\n    expires: "2999-01-01"\n');
    const r = await scan(policy);
    expect(r.code).toBe(2);
    expect(r.out).toContain('allow[0] (GHSA-x).reason must say why');
  });

  it('the project allow-list itself is valid', async () => {
    const r = await scan(join(root, '.ci/vuln-allowlist.yml'));
    expect([0, 1]).toContain(r.code);
    expect(r.out).not.toContain('must ');
  });
});
