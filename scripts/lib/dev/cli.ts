// `npm run dev`: MariaDB and Redis from Debian's packages (docs/dev.md says why not containers),
// migrations, sample data, then the backend under `bun --watch`. Ctrl-C stops all it started; the
// command's Result (its exit code) comes when everything is stopped. Plans are pure in plan.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { $, chalk, echo, fs, path, sleep } from 'zx';
import type { Invocation, Values } from '../cli/args.ts';
import type { Context, Result } from '../cli/context.ts';
import type { Cli } from '../cli/run.ts';
import {
  backendCommands,
  backendEnv,
  bootstrapSql,
  DevConfigError,
  type DevSettings,
  devSettings,
  dryRunLines,
  type Lock,
  layout,
  lockDecision,
  mariadbAdminArgv,
  mariadbdArgv,
  mariadbInstallArgv,
  parseEnv,
  portInUseMessage,
  portsToCheck,
  redisArgv,
  redisPingArgv,
} from './plan.ts';
import { devSpec } from './spec.ts';

/** A refusal said as "dev: ..." in red, exit 1. */
class DevFail extends Error {}

const str = (v: Values, key: string) => v[key] as string | undefined;

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const portFree = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });

const quiet = (argv: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  $({ quiet: true, nothrow: true, ...opts })`${argv}`;

export async function start(inv: Invocation, ctx: Context, root: string): Promise<Result> {
  try {
    return await startStack(inv.values, ctx, root);
  } catch (e) {
    if (!(e instanceof DevFail)) throw e;
    echo(chalk.red(`dev: ${e.message}`));
    return { code: 1 };
  }
}

async function startStack(v: Values, ctx: Context, root: string): Promise<Result> {
  const envFile = path.resolve(str(v, 'dotenv') ?? path.join(root, '.env'));
  const dataDir = path.resolve(str(v, 'data-dir') ?? path.join(root, '.dev'));
  const backendDir = path.resolve(str(v, 'backend') ?? path.join(root, 'backend'));
  const dryRun = v['dry-run'] === true;
  const progress = (msg: string) => echo(`${chalk.dim(`[dev ${(ctx.ms() / 1000).toFixed(1)}s]`)} ${msg}`);

  // .env: made from .env.example on the first run, never overwritten.
  if (!existsSync(envFile)) {
    if (dryRun) throw new DevFail(`${envFile} does not exist (a real run would create it from .env.example)`);
    await fs.copy(path.join(root, '.env.example'), envFile, { overwrite: false, errorOnExist: true });
    progress(`created ${path.relative(process.cwd(), envFile) || envFile} from .env.example`);
  }
  const env = parseEnv(readFileSync(envFile, 'utf8'));
  let settings: DevSettings;
  try {
    settings = devSettings(env);
  } catch (e) {
    if (e instanceof DevConfigError) throw new DevFail(`${e.message} (in ${envFile})`);
    throw e;
  }
  const l = layout(dataDir);
  const osUser = userInfo().username;
  const asRoot = process.getuid?.() === 0;
  const appEnv = { ...process.env, ...backendEnv(env, settings) };

  if (dryRun) {
    const initialised = existsSync(path.join(l.mariadbData, 'mysql'));
    for (const line of dryRunLines(settings, { dataDir, backendDir, osUser, asRoot, initialised }))
      echo(line);
    return { code: 0 };
  }

  // One dev stack per data directory: a lock file with our pid and our children's.
  await fs.mkdirp(l.logs);
  await fs.mkdirp(l.redisData);
  // The data directory ignores itself, so the repository's .gitignore needs no entry for it.
  writeFileSync(path.join(dataDir, '.gitignore'), '*\n');
  const lockNow = lockDecision(existsSync(l.lock) ? readFileSync(l.lock, 'utf8') : null, isAlive);
  if (lockNow.action === 'refuse') throw new DevFail(lockNow.message);
  if (lockNow.action === 'stale') {
    const left = Object.entries(lockNow.lock.children ?? {}).filter(([, pid]) => isAlive(pid));
    progress(`a previous dev stack (pid ${lockNow.lock.pid}) died without cleaning up`);
    if (left.length) progress(`still running from it: ${left.map(([n, p]) => `${n} (pid ${p})`).join(', ')}`);
    unlinkSync(l.lock);
  }
  const lock: Lock = {
    pid: process.pid,
    startedAt: new Date(Date.now() - ctx.ms()).toISOString(),
    children: {},
  };
  try {
    const fd = openSync(l.lock, 'wx'); // atomic: two starts at once cannot both win
    closeSync(fd);
  } catch {
    throw new DevFail('another npm run dev took the lock just now');
  }
  const saveLock = () => writeFileSync(l.lock, `${JSON.stringify(lock)}\n`);
  saveLock();

  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;
  let stopped: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    stopped = resolve;
  });

  async function stopAll(code: number) {
    if (stopping) return;
    stopping = true;
    for (const c of [...children].reverse()) {
      if (c.child.exitCode !== null || c.child.signalCode !== null) continue;
      progress(`stopping ${c.name} (pid ${c.child.pid})`);
      try {
        process.kill(-(c.child.pid as number), 'SIGTERM'); // its process group: nothing of it is left behind
      } catch {}
      const deadline = Date.now() + 30_000;
      while (c.child.exitCode === null && c.child.signalCode === null && Date.now() < deadline)
        await sleep(100);
      if (c.child.exitCode === null && c.child.signalCode === null) {
        progress(`${c.name} did not stop within 30 s: killing it`);
        try {
          process.kill(-(c.child.pid as number), 'SIGKILL');
        } catch {}
      }
    }
    try {
      unlinkSync(l.lock);
    } catch {}
    progress(code === 0 ? 'stopped' : 'stopped after a failure');
    stopped(code);
  }
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  /** A long-running process in its own group (so Ctrl-C reaches it only through stopAll, in order). */
  function startDaemon(
    name: string,
    argv: readonly string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; inherit?: boolean } = {},
  ) {
    const out = opts.inherit ? 'inherit' : openSync(path.join(l.logs, `${name}.log`), 'a');
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd ?? dataDir,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    child.on('error', (e) => {
      echo(chalk.red(`dev: ${name}: ${e.message} (is its Debian package installed? see docs/dev.md)`));
      void stopAll(1);
    });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      echo(chalk.red(`dev: ${name} exited (${signal ?? code}); see ${path.join(l.logs, `${name}.log`)}`));
      void stopAll(1);
    });
    children.push({ name, child });
    lock.children[name] = child.pid as number;
    saveLock();
    return child;
  }

  async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (stopping) return;
      if (await probe().catch(() => false)) return;
      await sleep(150);
    }
    throw new Error(`${what} did not answer within ${timeoutMs / 1000} s (log: ${l.logs})`);
  }

  try {
    for (const p of portsToCheck(settings)) {
      if (!(await portFree(p.host, p.port))) throw new Error(portInUseMessage(p));
    }

    if (!existsSync(path.join(l.mariadbData, 'mysql'))) {
      progress(`initialising MariaDB data in ${path.relative(process.cwd(), l.mariadbData)}`);
      const r = await quiet(mariadbInstallArgv(dataDir));
      if (r.exitCode !== 0) throw new Error(`mariadb-install-db failed:\n${r.stderr || r.stdout}`);
    }
    startDaemon('mariadb', mariadbdArgv(settings, dataDir, asRoot));
    startDaemon('redis', redisArgv(settings, dataDir));
    await waitUntil(
      'MariaDB',
      async () => (await quiet(mariadbAdminArgv(dataDir, osUser, 'SELECT 1'))).exitCode === 0,
      60_000,
    );
    const boot = await quiet(mariadbAdminArgv(dataDir, osUser, bootstrapSql(settings)));
    if (boot.exitCode !== 0) throw new Error(`creating the app's database and user failed:\n${boot.stderr}`);
    progress(`MariaDB on ${settings.db.host}:${settings.db.port}, database ${settings.db.database}`);
    await waitUntil(
      'Redis',
      async () => (await quiet(redisPingArgv(settings))).stdout.trim() === 'PONG',
      30_000,
    );
    progress(`Redis on ${settings.redis.host}:${settings.redis.port}`);

    for (const step of ['migrate', 'seed'] as const) {
      const r = await quiet(backendCommands[step], { cwd: backendDir, env: appEnv });
      if (r.exitCode !== 0) throw new Error(`${step} failed:\n${(r.stderr || r.stdout).trim()}`);
      progress(`${step}: ${r.stdout.trim().split('\n').pop()}`);
    }

    const backend = startDaemon('backend', [...backendCommands.serve], {
      cwd: backendDir,
      env: appEnv,
      inherit: true,
    });
    const url = `http://${settings.app.host}:${settings.app.port}`;
    await waitUntil('the backend', async () => (await fetch(`${url}/healthz`)).ok, 60_000);
    progress(
      chalk.green(
        `serving ${url} (backend pid ${backend.pid}); edit ${backendDir}/src to reload; Ctrl-C stops all`,
      ),
    );
  } catch (e) {
    echo(chalk.red(`dev: ${(e as Error).message}`));
    await stopAll(1);
  }
  return { code: await done };
}

export const devCli: Cli = { spec: devSpec, main: start };
