// `scripts/deploy.mjs` as a user runs it, for an environment whose platform is cloud_run: a copy
// of scripts/ under a temporary root whose inventory/gcp.yml points the Cloud Run API at a local
// fake (e2m_cloud_run_api_endpoint), so the real inventory is never touched.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { YAML } from 'zx';
import { FakeCloudRun } from '../../../test/support/cloud-run-fake.ts';

const exec = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');
let root: string;
let fake: FakeCloudRun;

beforeAll(async () => {
  fake = new FakeCloudRun({
    project: 'e2m-test-000000',
    region: 'us-central1',
    service: 'e2m-prod',
    job: 'e2m-prod-migrate',
    releases: ['rel-1', 'rel-2'],
  });
  await fake.start();
  root = mkdtempSync(join(tmpdir(), 'e2m-cloudrun-cli-'));
  cpSync(join(repo, 'scripts'), join(root, 'scripts'), { recursive: true });
  cpSync(join(repo, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  mkdirSync(join(root, 'inventory'));
  const vars = {
    e2m_env: 'prod',
    e2m_platform: 'cloud_run',
    e2m_domain: 'api.example.com',
    e2m_project_id: 'e2m-test-000000',
    e2m_region: 'us-central1',
    e2m_cloud_run_service: 'e2m-prod',
    e2m_cloud_run_migrate_job: 'e2m-prod-migrate',
    e2m_cloud_run_url: fake.serviceUrl,
    e2m_image_repository: 'us-central1-docker.pkg.dev/e2m-test-000000/e2m',
    e2m_backup_bucket: 'b',
    e2m_http_url: 'https://api.example.com',
    e2m_cloud_run_api_endpoint: fake.endpoint,
  };
  writeFileSync(
    join(root, 'inventory/gcp.yml'),
    YAML.stringify({ all: { children: { cloud_run: { hosts: { 'e2m-prod': {} }, vars } } } }),
  );
});
afterAll(async () => {
  await fake.stop();
  rmSync(root, { recursive: true, force: true });
});

async function deploy(...args: string[]) {
  try {
    const { stdout } = await exec(process.execPath, [join(root, 'scripts/deploy.mjs'), ...args], {
      cwd: root,
    });
    return { code: 0, stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout + err.stderr };
  }
}

const IMAGE = 'us-central1-docker.pkg.dev/e2m-test-000000/e2m/backend:rel-3';

// Each test starts node a few times: seconds each when the unit suite runs files in parallel.
describe('zx scripts/deploy.mjs --target prod (platform cloud_run)', { timeout: 60_000 }, () => {
  it('prints the plan on --dry-run and changes nothing', async () => {
    const r = await deploy('deploy', '--target', 'prod', '--image', IMAGE, '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^deploy: .*backend:rel-3 as revision e2m-prod-rel-3-\d{6} of e2m-prod/);
    expect(r.stdout).toContain(
      '2/4 run the migrations (job e2m-prod-migrate)\n    jobs.runJob {"name":"projects/e2m-test-000000',
    );
    expect(fake.requests.filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it('deploys, shows the new revision serving, and rolls back to the previous one', async () => {
    const d = await deploy('deploy', '--target', 'prod', '--image', IMAGE, '--json');
    expect(d.code).toBe(0);
    const deployed = JSON.parse(d.stdout.trim().split('\n').pop() ?? '{}');
    expect(deployed).toMatchObject({ ok: true, action: 'deploy', switched: true });
    expect(deployed.serving).toMatch(/^e2m-prod-rel-3-\d{6}$/);

    const s = JSON.parse((await deploy('status', '--target', 'prod', '--json')).stdout);
    expect(s).toMatchObject({ platform: 'cloud_run', serving: deployed.serving });
    expect(s.revisions.map((x: { release: string }) => x.release)).toEqual(['rel-3', 'rel-2', 'rel-1']);

    const r = await deploy('rollback', '--target', 'prod', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, action: 'rollback', serving: 'e2m-prod-rel-2' });
    expect(fake.serving()).toBe('e2m-prod-rel-2');
  });

  it('exits 1 with the reason when the migrations fail, and 2 for what does not apply on Cloud Run', async () => {
    fake.failNextRun = true;
    const d = await deploy('deploy', '--target', 'prod', '--image', IMAGE);
    expect(d.code).toBe(1);
    expect(d.stdout).toContain('deploy failed at step "migrate"');
    expect(d.stdout).toContain('Traffic never moved: the previous revision kept serving.');
    const lock = await deploy('lock', '--target', 'prod');
    expect(lock.code).toBe(2);
    expect(lock.stdout).toMatch(/lock does not apply to Cloud Run service e2m-prod/);
    const dry = await deploy('deploy', '--target', 'prod', '--dry-run');
    expect(dry.code).toBe(2);
    expect(dry.stdout).toMatch(/--dry-run needs --image/);
    const bad = await deploy('deploy', '--target', 'prod', '--image', 'backend:latest');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/--image must be a pushed registry image/);
  });

  it('takes the platform from the file E2M_INVENTORY names, as it takes the host', async () => {
    const file = join(root, 'vm-prod.yml');
    const vm = {
      ansible_host: '127.0.0.1',
      ansible_port: 9,
      ansible_user: 'ops',
      ansible_ssh_private_key_file: join(root, 'no-key'),
    };
    const vars = {
      e2m_env: 'prod',
      e2m_domain: 'api.example.com',
      e2m_tls_mode: 'acme',
      e2m_project_id: 'e2m-test-000000',
      e2m_backup_bucket: 'b',
      e2m_http_url: 'https://api.example.com',
    };
    writeFileSync(
      file,
      YAML.stringify({ all: { children: { e2micro: { hosts: { 'e2m-prod': vm }, vars } } } }),
    );
    const before = fake.requests.length;
    const r = await exec(process.execPath, [join(root, 'scripts/deploy.mjs'), 'status', '--target', 'prod'], {
      cwd: root,
      env: { ...process.env, E2M_INVENTORY: file },
    }).then(
      () => ({ code: 0, stdout: '' }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`cannot reach deploy@127.0.0.1:9 over SSH (${file})`);
    expect(fake.requests.length).toBe(before);
  });
});
