#!/usr/bin/env zx
// `npm run dev`: MariaDB and Redis from Debian's packages (docs/dev.md says why not containers),
// migrations, sample data, then the backend under `bun --watch`. Ctrl-C stops all it started.
// Thin: arguments and .env in, plan from lib/dev/plan.ts, processes started and stopped here.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { $, argv, chalk, echo, fs, path, sleep } from 'zx';
import {
  backendCommands,
  backendEnv,
  bootstrapSql,
  DevConfigError,
  devSettings,
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
} from './lib/dev/plan.ts';
import { toShell } from './lib/runner.ts';

const root = path.resolve(import.meta.dirname, '..');
const USAGE = `Usage: npm run dev [-- options]

Starts MariaDB and Redis on loopback (data in .dev/), runs migrations, seeds sample data and runs
the backend with hot reload (bun --watch). Ctrl-C stops everything it started.
Ports and credentials: DATABASE_URL, REDIS_URL and PORT in .env (made from .env.example if missing).

Options (--dotenv, not --env-file: Node 22 takes --env-file for itself, wherever it stands):
  --dotenv FILE     the .env to read (default .env at the repository root)
  --data-dir DIR    where data, logs and the lock live (default .dev/)
  --backend DIR     the backend source to run (default backend/)
  --dry-run         print the plan, start nothing
  -h, --help        this help`;

if (argv.help || argv.h) {
  echo(USAGE);
  process.exit(0);
}
const envFile = path.resolve(argv.dotenv ?? path.join(root, '.env'));
const dataDir = path.resolve(argv['data-dir'] ?? path.join(root, '.dev'));
const backendDir = path.resolve(argv.backend ?? path.join(root, 'backend'));
const dryRun = Boolean(argv['dry-run']);
const t0 = Date.now();
const progress = (msg) => echo(`${chalk.dim(`[dev ${((Date.now() - t0) / 1000).toFixed(1)}s]`)} ${msg}`);
const fail = (msg) => {
  echo(chalk.red(`dev: ${msg}`));
  process.exit(1);
};

// .env: made from .env.example on the first run, never overwritten.
if (!existsSync(envFile)) {
  if (dryRun) fail(`${envFile} does not exist (a real run would create it from .env.example)`);
  await fs.copy(path.join(root, '.env.example'), envFile, { overwrite: false, errorOnExist: true });
  progress(`created ${path.relative(process.cwd(), envFile) || envFile} from .env.example`);
}
const env = parseEnv(readFileSync(envFile, 'utf8'));
let settings;
try {
  settings = devSettings(env);
} catch (e) {
  if (e instanceof DevConfigError) fail(`${e.message} (in ${envFile})`);
  throw e;
}
const l = layout(dataDir);
const osUser = userInfo().username;
const asRoot = process.getuid?.() === 0;
const appEnv = { ...process.env, ...backendEnv(env, settings) };

if (dryRun) {
  const secrets = [settings.db.password, settings.redis.password].filter(Boolean);
  const show = (argv_) => toShell(argv_.map((a) => secrets.reduce((w, s) => w.replaceAll(s, '***'), a)));
  for (const p of portsToCheck(settings)) echo(`check ${p.key}: ${p.host}:${p.port} is free`);
  if (!existsSync(path.join(l.mariadbData, 'mysql'))) echo(show(mariadbInstallArgv(dataDir)));
  echo(show(mariadbdArgv(settings, dataDir, asRoot)));
  echo(
    show(
      mariadbAdminArgv(
        dataDir,
        osUser,
        bootstrapSql({ ...settings, db: { ...settings.db, password: '***' } }),
      ),
    ),
  );
  echo(show(redisArgv(settings, dataDir)));
  for (const cmd of Object.values(backendCommands))
    echo(`(cd ${toShell([backendDir])} && ${show([...cmd])})`);
  process.exit(0);
}

// One dev stack per data directory: a lock file with our pid and our children's.
await fs.mkdirp(l.logs);
await fs.mkdirp(l.redisData);
// The data directory ignores itself, so the repository's .gitignore needs no entry for it.
writeFileSync(path.join(dataDir, '.gitignore'), '*\n');
const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};
const lockNow = lockDecision(existsSync(l.lock) ? readFileSync(l.lock, 'utf8') : null, isAlive);
if (lockNow.action === 'refuse') fail(lockNow.message);
if (lockNow.action === 'stale') {
  const left = Object.entries(lockNow.lock.children ?? {}).filter(([, pid]) => isAlive(pid));
  progress(`a previous dev stack (pid ${lockNow.lock.pid}) died without cleaning up`);
  if (left.length) progress(`still running from it: ${left.map(([n, p]) => `${n} (pid ${p})`).join(', ')}`);
  unlinkSync(l.lock);
}
const lock = { pid: process.pid, startedAt: new Date(t0).toISOString(), children: {} };
try {
  const fd = openSync(l.lock, 'wx'); // atomic: two starts at once cannot both win
  closeSync(fd);
} catch {
  fail('another npm run dev took the lock just now');
}
const saveLock = () => writeFileSync(l.lock, `${JSON.stringify(lock)}\n`);
saveLock();

const children = []; // { name, child, exited }
let stopping = false;

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const c of [...children].reverse()) {
    if (c.child.exitCode !== null || c.child.signalCode !== null) continue;
    progress(`stopping ${c.name} (pid ${c.child.pid})`);
    try {
      process.kill(-c.child.pid, 'SIGTERM'); // its process group: nothing of it is left behind
    } catch {}
    const deadline = Date.now() + 30_000;
    while (c.child.exitCode === null && c.child.signalCode === null && Date.now() < deadline)
      await sleep(100);
    if (c.child.exitCode === null && c.child.signalCode === null) {
      progress(`${c.name} did not stop within 30 s: killing it`);
      try {
        process.kill(-c.child.pid, 'SIGKILL');
      } catch {}
    }
  }
  try {
    unlinkSync(l.lock);
  } catch {}
  progress(code === 0 ? 'stopped' : 'stopped after a failure');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

/** A long-running process in its own group (so Ctrl-C reaches it only through stopAll, in order). */
function startDaemon(name, argv_, opts = {}) {
  const out = opts.inherit ? 'inherit' : openSync(path.join(l.logs, `${name}.log`), 'a');
  const child = spawn(argv_[0], argv_.slice(1), {
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
  lock.children[name] = child.pid;
  saveLock();
  return child;
}

async function waitUntil(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    if (await probe().catch(() => false)) return;
    await sleep(150);
  }
  throw new Error(`${what} did not answer within ${timeoutMs / 1000} s (log: ${l.logs})`);
}

const portFree = (host, port) =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });

const quiet = (argv_, opts = {}) => $({ quiet: true, nothrow: true, ...opts })`${argv_}`;

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

  for (const step of ['migrate', 'seed']) {
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
  echo(chalk.red(`dev: ${e.message}`));
  await stopAll(1);
}
