// Bring your own backend (docs/app-contract.md): the minimal app in examples/byo-bun, which meets
// the contract and nothing more, deployed to the twin exactly as a user types it; a second
// release, a rollback, a backup that holds its table and `incident status` all work with it;
// an image without /readyz is refused, naming the piece, while the serving release stays. Last,
// the release that served before this file (40-deploy's) serves again, for 50, 60 and 90.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshRunner } from '../../scripts/lib/runner.ts';
import { zxCli } from './support/cli.ts';
import { proxyClient } from './support/proxy.ts';
import { connect, root, sudo, twinTarget } from './support/twin.ts';

const APP = 'examples/byo-bun';
const deployCli = (...args: string[]) => zxCli('deploy.mjs', ...args);

const build = (app: string, release: string) => {
  const r = spawnSync(
    'npx',
    [
      'zx',
      'scripts/image.mjs',
      'build',
      '--app',
      app,
      '--tag',
      `e2m/backend:${release}`,
      '--release',
      release,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`image build of ${app} failed: ${r.stderr}${r.stdout}`);
};

const target = twinTarget();
const client = proxyClient(target.httpsUrl, target.domain);
let ops: SshRunner;
let scratch: string;
/** What served before this file (40-deploy's release), to put back at the end. */
let before: string | undefined;
let first = '';

const sql = async (query: string, database = 'app') =>
  (await sudo(ops, ['mariadb', '-N', '-B', database, '-e', query])).stdout.trim();

beforeAll(async () => {
  const t0 = Date.now();
  build(APP, 'byo-2');
  // The same app with its /readyz route renamed away: one missing piece of the contract.
  scratch = mkdtempSync(join(tmpdir(), 'e2m-byo-'));
  cpSync(join(root, APP), scratch, { recursive: true });
  const server = join(scratch, 'server.ts');
  const source = readFileSync(server, 'utf8');
  expect(source).toContain("pathname === '/readyz'");
  writeFileSync(server, source.replace("pathname === '/readyz'", "pathname === '/ready'"));
  build(scratch, 'byo-noready');
  console.log(`byo: two images built in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  ops = await connect(target);
  before = ((await deployCli('status', '--json')).json?.active as { release?: string } | null)?.release;
}, 600_000);

afterAll(async () => {
  client.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  await ops?.close();
});

describe('bring your own backend: examples/byo-bun on the twin', () => {
  it('--app refuses a directory without a Dockerfile, naming it, before connecting anywhere', async () => {
    const r = await deployCli('deploy', '--app', 'docs');
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      '--app docs: no Dockerfile there; an app brings its own image recipe (docs/app-contract.md)',
    );
  });

  it('deploy --app builds and deploys it: the proxy answers with its release, its table works', async () => {
    const r = await deployCli('deploy', '--app', APP, '--json');
    expect(r.code, r.out).toBe(0);
    first = String(r.json?.release);
    expect(first).toMatch(/^\d{8}T\d{6}-[0-9a-f]{7}(-dirty)?-byo-bun$/);
    console.log(`byo: deploy --app (build included) ${(r.json?.ms as number) / 1000}s of the plan`);
    expect(await client.get('/healthz')).toMatchObject({ status: 200, release: first });
    expect(await client.get('/healthz')).toMatchObject({ status: 200, release: first });
    const visits = await client.get('/visits');
    expect(visits).toMatchObject({ status: 200, release: first });
    expect(JSON.parse(visits.body)).toMatchObject({ release: first, visits: 0 });
    await sudo(ops, ['mariadb', 'app', '-e', `INSERT INTO byo_visits (app_release) VALUES ('${first}')`]);
    expect(JSON.parse((await client.get('/visits')).body).visits).toBe(1);
  });

  it('a second release replaces it, the data stays, and the old colour drained on SIGTERM', async () => {
    // --warm-for 0: the old colour is drained now instead of kept warm, so the contract's SIGTERM
    // drain is what this checks (40-deploy tests the warm colour).
    const r = await deployCli('deploy', '--image', 'e2m/backend:byo-2', '--warm-for', '0', '--json');
    expect(r.code, r.out).toBe(0);
    expect(r.json?.warnings).toEqual([]);
    expect(await client.get('/visits')).toMatchObject({ status: 200, release: 'byo-2' });
    expect(JSON.parse((await client.get('/visits')).body).visits).toBe(1);
    // The parked colour (the first release) exited 0 on SIGTERM: it drained, nobody killed it.
    const status = await deployCli('status', '--json');
    const containers = (status.json?.containers ?? []) as { name: string; running: boolean }[];
    const parked = containers.find((c) => !c.running);
    expect(parked, status.out).toBeDefined();
    const code = await sudo(ops, [
      'docker',
      'inspect',
      '--format',
      '{{.State.ExitCode}}',
      String(parked?.name),
    ]);
    expect(code.stdout.trim()).toBe('0');
  });

  it('rolls back to the first release', async () => {
    const r = await deployCli('rollback', first, '--json');
    expect(r.code, r.out).toBe(0);
    expect(await client.get('/healthz')).toMatchObject({ status: 200, release: first });
  });

  it('backup: the nightly job dumps its table, named for its release, and the drill matches it', async () => {
    const run = await zxCli('backup.mjs', 'run', '--json');
    expect(run.code, run.out).toBe(0);
    expect(String(run.json?.object)).toMatch(new RegExp(`-${first}\\.sql\\.zst$`));
    const verify = await zxCli('backup.mjs', 'verify', String(run.json?.object), '--json');
    expect(verify.code, verify.out).toBe(0);
    const tables = ((verify.json?.tables ?? []) as { table: string; ok: boolean }[]).map((t) => [
      t.table,
      t.ok,
    ]);
    expect(tables).toContainEqual(['byo_visits', true]);
  });

  it('incident status: the release, its container and the site are ok; no kill switch is not a fault', async () => {
    const r = await zxCli('incident.mjs', 'status', '--json');
    const findings = (r.json?.findings ?? []) as { id: string; level: string; summary: string }[];
    const of = (id: string) => findings.find((f) => f.id === id);
    expect(r.code, r.out).toBe(0);
    expect(of('release')?.summary).toContain(first);
    expect(of('containers')).toMatchObject({ level: 'ok' });
    expect(of('site')).toMatchObject({ level: 'ok', summary: '/readyz 200 through the proxy' });
    expect(of('kill-switch')).toMatchObject({
      level: 'ok',
      summary: 'not offered by this app (optional: docs/app-contract.md)',
    });
  });

  it('an image without /readyz is refused at once, naming the piece; the serving release is untouched', async () => {
    const t0 = Date.now();
    const r = await deployCli('deploy', '--image', 'e2m/backend:byo-noready');
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'deploy failed at step "ready": /readyz answered 404: the contract needs GET /readyz (200 once it can serve)',
    );
    expect(r.out).toContain('The proxy was never switched');
    expect(Date.now() - t0).toBeLessThan(60_000); // named at once, not after the readiness timeout
    expect(await client.get('/healthz')).toMatchObject({ status: 200, release: first });
  });

  it('puts back what served before (40-deploy), and drops its table', async () => {
    if (before) {
      const r = await deployCli('rollback', before, '--json');
      expect(r.code, r.out).toBe(0);
      expect(await client.get('/healthz')).toMatchObject({ status: 200, release: before });
    }
    await sql('DROP TABLE IF EXISTS byo_visits');
    expect(await sql("SHOW TABLES LIKE 'byo_visits'")).toBe('');
  });
});
