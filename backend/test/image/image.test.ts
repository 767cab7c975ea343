import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, waitUntil } from '../support/harness.ts';
import { freePort } from '../support/services.ts';

// The image as it ships: built by the project's own script, run the way the issue demands
// (read-only, no capabilities, 256 MB), talking to the real MariaDB and Redis on loopback.
const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const TAG = 'e2m/backend:ci-test';
const RELEASE = 'image-test-1';
const docker = async (...args: string[]) =>
  (await exec('docker', args, { maxBuffer: 64 << 20 })).stdout.trim();

let built: { sizeBytes: number; image: string };
let db: Awaited<ReturnType<typeof createDatabase>>;
const containers: string[] = [];

beforeAll(async () => {
  const { stdout } = await exec(
    'npx',
    ['zx', 'scripts/image.mjs', 'build', '--tag', TAG, '--release', RELEASE, '--json'],
    {
      cwd: root,
      maxBuffer: 64 << 20,
    },
  );
  built = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
  db = await createDatabase(false);
});
afterAll(async () => {
  for (const c of containers) await docker('rm', '-f', c).catch(() => {});
  await db?.drop();
});

async function runContainer(port: number, extra: string[] = [], args: string[] = []) {
  const name = `e2m-image-test-${port}`;
  containers.push(name);
  await docker(
    'run',
    '-d',
    '--name',
    name,
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--memory',
    '256m',
    '--memory-swap',
    '256m',
    '--network',
    'host',
    '-e',
    `PORT=${port}`,
    '-e',
    'HOST=127.0.0.1',
    '-e',
    `DATABASE_URL=${db.url}`,
    '-e',
    `REDIS_URL=${inject('redisUrl')}`,
    ...extra,
    TAG,
    ...args,
  );
  return name;
}

describe('the backend image', () => {
  it('is at most 150 MB', () => {
    expect(built.image).toBe(TAG);
    expect(built.sizeBytes).toBeLessThanOrEqual(150 * 1000 * 1000);
  });

  it('runs its migrations from the image with the explicit migrate command', async () => {
    const out = await docker(
      'run',
      '--rm',
      '--read-only',
      '--cap-drop',
      'ALL',
      '--network',
      'host',
      '-e',
      `DATABASE_URL=${db.url}`,
      '-e',
      `REDIS_URL=${inject('redisUrl')}`,
      TAG,
      'migrate',
    );
    expect(out).toContain('"applied":["Migration20261123000000_notes"]');
  });

  it('serves /readyz read-only, without capabilities, in 256 MB, as a non-root user, and turns healthy', async () => {
    const port = await freePort();
    const name = await runContainer(port);
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(
      async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200,
      20_000,
      200,
    );
    const res = await fetch(`${url}/readyz`);
    expect(res.headers.get('x-release')).toBe(RELEASE);
    const created = await fetch(`${url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"title":"from the image"}',
    });
    expect(created.status).toBe(201);

    expect(await docker('inspect', '--format', '{{.Config.User}}', name)).toBe('10001:10001');
    const pid = await docker('inspect', '--format', '{{.State.Pid}}', name);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+10001\s/m);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    console.log(`image RSS after a few requests: ${(rssKb / 1024).toFixed(1)} MB`);
    expect(rssKb).toBeLessThan(256 * 1024);
    await waitUntil(
      async () => (await docker('inspect', '--format', '{{.State.Health.Status}}', name)) === 'healthy',
      40_000,
      500,
    );
  });

  // Cloud Run (terraform/cloud_run.tf) runs the same image: it sets PORT and K_*, gives the app
  // its configuration as environment variables (DATABASE_URL from Secret Manager), sets no HOST,
  // and probes /readyz at startup and /healthz for liveness. The root filesystem is read-only
  // and there is no volume: the app must keep no local state.
  it('runs as on Cloud Run: $PORT, all interfaces, configuration from the environment, a read-only root, answers both probes', async () => {
    const port = await freePort();
    const name = `e2m-image-test-cloud-run-${port}`;
    containers.push(name);
    await docker(
      'run',
      '-d',
      '--name',
      name,
      '--read-only',
      '--cap-drop',
      'ALL',
      '--memory',
      '448m',
      '--network',
      'host',
      '-e',
      `PORT=${port}`,
      '-e',
      'K_SERVICE=e2m-prod',
      '-e',
      'K_REVISION=e2m-prod-image-test-000000',
      '-e',
      'K_CONFIGURATION=e2m-prod',
      '-e',
      'APP_ENV=prod',
      '-e',
      'RELEASE=cloud-run-test-1',
      '-e',
      'TRUST_PROXY=true',
      '-e',
      `DATABASE_URL=${db.url}`,
      '-e',
      `REDIS_URL=${inject('redisUrl')}`,
      '-e',
      'SENTRY_DSN=',
      TAG,
    );
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(
      async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200,
      20_000,
      200,
    );
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('x-release')).toBe('cloud-run-test-1');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // Cloud Run sends traffic to the container's address, not loopback: the app binds all interfaces.
    const logs = (await exec('docker', ['logs', name])).stdout.split('\n').filter((l) => l.startsWith('{'));
    const listening = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening');
    expect(listening).toMatchObject({ host: '0.0.0.0', port });
    // Nothing written anywhere in the container's own filesystem.
    expect(await docker('diff', name)).toBe('');
  });

  it('gets SIGTERM as PID 1 from docker stop, drains and exits 0 well before the kill timeout', async () => {
    const port = await freePort();
    const name = await runContainer(port);
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok === true,
      20_000,
      200,
    );
    const t0 = performance.now();
    await docker('stop', '--time', '10', name);
    const stopMs = performance.now() - t0;
    expect(await docker('inspect', '--format', '{{.State.ExitCode}}', name)).toBe('0');
    expect(stopMs).toBeLessThan(5_000);
    const logs = (await exec('docker', ['logs', name])).stdout;
    expect(logs).toContain('"signal":"SIGTERM"');
    expect(logs).toContain('"msg":"shutdown: done"');
  });
});
