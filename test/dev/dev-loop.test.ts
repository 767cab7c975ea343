import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `npm run dev` end to end, as a developer uses it, on a temporary copy of the backend source:
// it comes up, serves the seeded notes, picks up an edit of a route without a restart, refuses a
// second start, and Ctrl-C (SIGINT) leaves nothing running.
const root = join(import.meta.dirname, '..', '..');
const exec = promisify(execFile);

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** `npm run dev` without npm in between, so the test's SIGINT reaches the script itself. */
function dev(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(join(root, 'node_modules/.bin/zx'), ['scripts/dev.mjs', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

let tmp: string;
const started: ChildProcess[] = [];
const held: Server[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'e2m-dev-'));
  const copy = join(tmp, 'backend');
  await mkdir(copy);
  for (const f of ['src', 'package.json', 'tsconfig.json', 'bun.lock'])
    await cp(join(root, 'backend', f), join(copy, f), { recursive: true });
  await symlink(join(root, 'backend', 'node_modules'), join(copy, 'node_modules'));
});

afterAll(async () => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGINT');
  for (const s of held) s.close();
  await new Promise((r) => setTimeout(r, 500));
  await rm(tmp, { recursive: true, force: true });
});

describe('npm run dev', () => {
  it('serves the seeded API, reloads an edited route in the same process, and stops everything on Ctrl-C', async () => {
    const [dbPort, redisPort, appPort] = [await freePort(), await freePort(), await freePort()];
    const envFile = join(tmp, 'loop.env');
    await writeFile(
      envFile,
      [
        `DATABASE_URL=mysql://app:dev-secret@127.0.0.1:${dbPort}/app`,
        `REDIS_URL=redis://127.0.0.1:${redisPort}`,
        `PORT=${appPort}`,
        'HOST=127.0.0.1',
        `KILL_SWITCH_FILE=${join(tmp, 'kill-switch')}`,
        '',
      ].join('\n'),
    );
    const dataDir = join(tmp, 'loop-data');
    const args = ['--dotenv', envFile, '--data-dir', dataDir, '--backend', join(tmp, 'backend')];
    const url = `http://127.0.0.1:${appPort}`;

    const t0 = Date.now();
    const first = dev(args);
    started.push(first.child);
    await until('serving', async () => first.output().includes('serving http'), 150_000).catch((e) => {
      throw new Error(`${e.message}\n${first.output()}`);
    });
    const startMs = Date.now() - t0;

    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const notes = await (await fetch(`${url}/notes`)).json();
    expect(notes.items.map((n: { title: string }) => n.title)).toContain('Welcome to the notes API');

    const lock = JSON.parse(await readFile(join(dataDir, 'dev.lock'), 'utf8'));
    expect(lock.pid).toBe(first.child.pid);
    const pids: Record<string, number> = lock.children;
    expect(Object.keys(pids).sort()).toEqual(['backend', 'mariadb', 'redis']);

    // A second start while this one runs says so and starts nothing.
    const second = dev(args);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`npm run dev is already running (pid ${first.child.pid}`);

    // Edit a route in the copy: the change is served by the same backend process.
    const routes = join(tmp, 'backend/src/modules/health/health.routes.ts');
    const source = await readFile(routes, 'utf8');
    const edited = source.replace(
      "ctx.body = { status: 'ok' };",
      "ctx.body = { status: 'ok', edited: true };",
    );
    expect(edited).not.toBe(source);
    const t1 = Date.now();
    await writeFile(routes, edited);
    await until(
      'the edit served',
      async () => (await (await fetch(`${url}/healthz`)).json()).edited === true,
      30_000,
    );
    const reloadMs = Date.now() - t1;
    expect(alive(pids.backend)).toBe(true);
    expect(JSON.parse(await readFile(join(dataDir, 'dev.lock'), 'utf8')).children.backend).toBe(pids.backend);
    console.log(
      `dev loop: serving after ${startMs} ms (first run, fresh data); edit served after ${reloadMs} ms`,
    );

    // Ctrl-C: everything it started stops, the ports are free again, the lock is gone.
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    for (const [name, pid] of Object.entries(pids)) expect(alive(pid), `${name} pid ${pid}`).toBe(false);
    for (const port of [dbPort, redisPort, appPort]) expect(await portFree(port), `port ${port}`).toBe(true);
    const { stdout } = await exec('ps', ['-eo', 'args']);
    expect(stdout).not.toContain(dataDir);
    expect(stdout).not.toContain(`--port ${redisPort}`);
    await expect(readFile(join(dataDir, 'dev.lock'))).rejects.toThrow();

    // A restart keeps the data and the seed adds nothing twice.
    const t2 = Date.now();
    const again = dev(args);
    started.push(again.child);
    await until('serving again', async () => again.output().includes('serving http'), 120_000);
    console.log(`dev loop: serving after ${Date.now() - t2} ms on a restart (data kept)`);
    expect(again.output()).toContain('seed: {"created":0,"existing":4}');
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  });

  it('creates .env from .env.example once, never overwrites it, and names the key of a port in use', async () => {
    const dir = join(tmp, 'fresh');
    await mkdir(dir);
    const envFile = join(dir, '.env');
    // .env.example's MariaDB port: held by this test, or by something else already; either way in use.
    const example = await readFile(join(root, '.env.example'), 'utf8');
    const dbPort = Number(/^DATABASE_URL=.*:(\d+)\//m.exec(example)?.[1]);
    const holder = createServer();
    await new Promise<void>((r) => {
      holder.once('error', () => r());
      holder.listen(dbPort, '127.0.0.1', () => r());
    });
    held.push(holder);

    const run1 = dev(['--dotenv', envFile, '--data-dir', join(dir, '.dev')]);
    expect(await run1.exited).toBe(1);
    expect(run1.output()).toContain('from .env.example');
    expect(run1.output()).toContain(`DATABASE_URL port ${dbPort} is in use`);
    expect(await readFile(envFile, 'utf8')).toBe(example);

    // The developer's own .env is theirs: a later run reads it and leaves it as it is.
    const redisPort = await freePort();
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(redisPort, '127.0.0.1', () => r()));
    held.push(busy);
    const mine = [
      `DATABASE_URL=mysql://app:x@127.0.0.1:${await freePort()}/app`,
      `REDIS_URL=redis://127.0.0.1:${redisPort}`,
      `PORT=${await freePort()}`,
      '# mine',
      '',
    ].join('\n');
    await writeFile(envFile, mine);
    const run2 = dev(['--dotenv', envFile, '--data-dir', join(dir, '.dev')]);
    expect(await run2.exited).toBe(1);
    expect(run2.output()).toContain(`REDIS_URL port ${redisPort} is in use`);
    expect(run2.output()).not.toContain('from .env.example');
    expect(await readFile(envFile, 'utf8')).toBe(mine);
  });

  it('answers --help through npm, as a user types it', async () => {
    const { stdout } = await exec('npm', ['run', '-s', 'dev', '--', '--help'], { cwd: root });
    expect(stdout).toContain('Usage: npm run dev');
    expect(stdout).toContain('Ctrl-C stops everything');
  });
});
