// Pure planning for `npm run dev`: .env text in, the local stack out (ports named by the key they
// come from, exact argv of every process, the bootstrap SQL). No I/O, no clock, no env here.

import { toShell } from '../shell.ts';

export type EnvMap = Record<string, string>;

/** Dotenv subset: KEY=value lines, # comments, optional single or double quotes. */
export function parseEnv(text: string): EnvMap {
  const env: EnvMap = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m || line.startsWith('#')) continue;
    let value = m[2];
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    env[m[1]] = value;
  }
  return env;
}

export class DevConfigError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`${key} ${message}`);
    this.name = 'DevConfigError';
    this.key = key;
  }
}

export type DevSettings = {
  db: { host: string; port: number; user: string; password: string; database: string };
  redis: { host: string; port: number; password: string };
  app: { host: string; port: number };
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const NAME = /^[A-Za-z0-9_]{1,64}$/;

function url(env: EnvMap, key: string, protocol: string, defaultPort: number): URL {
  const value = env[key];
  if (!value) throw new DevConfigError(key, 'is missing from .env');
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new DevConfigError(key, `is not a URL: ${value}`);
  }
  if (u.protocol !== `${protocol}:`) throw new DevConfigError(key, `must start with ${protocol}://`);
  if (!LOOPBACK.has(u.hostname))
    throw new DevConfigError(key, `must point at 127.0.0.1: npm run dev starts its own server there`);
  if (!u.port) u.port = String(defaultPort);
  return u;
}

/**
 * The dev stack's settings, derived from the same keys the backend reads, so one .env serves
 * both: MariaDB's port, user, password and database from DATABASE_URL, Redis's from REDIS_URL.
 */
export function devSettings(env: EnvMap): DevSettings {
  const db = url(env, 'DATABASE_URL', 'mysql', 3306);
  const user = decodeURIComponent(db.username);
  const database = db.pathname.replace(/^\//, '');
  if (!NAME.test(user)) throw new DevConfigError('DATABASE_URL', 'needs a user of letters, digits and _');
  if (user === 'root')
    throw new DevConfigError('DATABASE_URL', 'must not use root: give the app its own user');
  if (!NAME.test(database))
    throw new DevConfigError('DATABASE_URL', 'needs a database name of letters, digits and _');
  const redis = url(env, 'REDIS_URL', 'redis', 6379);
  const port = Number(env.PORT ?? '3000');
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new DevConfigError('PORT', `must be a port number, got ${env.PORT}`);
  return {
    db: {
      host: '127.0.0.1',
      port: Number(db.port),
      user,
      password: decodeURIComponent(db.password),
      database,
    },
    redis: { host: '127.0.0.1', port: Number(redis.port), password: decodeURIComponent(redis.password) },
    app: { host: env.HOST && env.HOST !== '0.0.0.0' ? env.HOST : '127.0.0.1', port },
  };
}

/** Every port the stack binds, named by the .env key it comes from (for "X 3306 is in use"). */
export function portsToCheck(s: DevSettings): { key: string; host: string; port: number }[] {
  return [
    { key: 'DATABASE_URL', host: s.db.host, port: s.db.port },
    { key: 'REDIS_URL', host: s.redis.host, port: s.redis.port },
    { key: 'PORT', host: s.app.host, port: s.app.port },
  ];
}

export const portInUseMessage = (p: { key: string; port: number }) =>
  `${p.key} port ${p.port} is in use: stop what listens there or change ${p.key} in .env`;

export type DevPaths = {
  /** Git-ignored state: data, logs, lock. */
  dataDir: string;
  /** The backend source the watcher runs (backend/, or a copy in tests). */
  backendDir: string;
};

export const layout = (dataDir: string) => ({
  mariadbData: `${dataDir}/mariadb`,
  mariadbSocket: `${dataDir}/mariadb.sock`,
  redisData: `${dataDir}/redis`,
  logs: `${dataDir}/logs`,
  lock: `${dataDir}/dev.lock`,
});

export function mariadbInstallArgv(dataDir: string): string[] {
  return [
    'mariadb-install-db',
    '--no-defaults',
    `--datadir=${layout(dataDir).mariadbData}`,
    '--auth-root-authentication-method=socket',
    '--skip-test-db',
  ];
}

/** mariadbd on loopback only; root only through the socket in the data dir. */
export function mariadbdArgv(s: DevSettings, dataDir: string, runningAsRoot: boolean): string[] {
  const l = layout(dataDir);
  return [
    'mariadbd',
    '--no-defaults',
    `--datadir=${l.mariadbData}`,
    `--socket=${l.mariadbSocket}`,
    `--port=${s.db.port}`,
    `--bind-address=${s.db.host}`,
    ...(runningAsRoot ? ['--user=root'] : []),
    '--skip-log-bin',
    '--innodb-buffer-pool-size=64M',
    `--pid-file=${l.mariadbData}/mariadbd.pid`,
  ];
}

/**
 * The mariadb client as the OS user over the socket (readiness probe and bootstrap): with socket
 * authentication, install-db gives root and the installing user admin accounts, no passwords.
 */
export function mariadbAdminArgv(dataDir: string, osUser: string, sql: string): string[] {
  return ['mariadb', '--no-defaults', `--socket=${layout(dataDir).mariadbSocket}`, `-u${osUser}`, '-e', sql];
}

const sqlString = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** Idempotent: the app's database and user, with the password from .env (changed if .env changed). */
export function bootstrapSql(s: DevSettings): string {
  const who = `${sqlString(s.db.user)}@'127.0.0.1'`;
  return [
    `CREATE DATABASE IF NOT EXISTS \`${s.db.database}\``,
    `CREATE USER IF NOT EXISTS ${who} IDENTIFIED BY ${sqlString(s.db.password)}`,
    `ALTER USER ${who} IDENTIFIED BY ${sqlString(s.db.password)}`,
    `GRANT ALL ON \`${s.db.database}\`.* TO ${who}`,
  ].join('; ');
}

export function redisArgv(s: DevSettings, dataDir: string): string[] {
  return [
    'redis-server',
    '--port',
    String(s.redis.port),
    '--bind',
    s.redis.host,
    '--dir',
    layout(dataDir).redisData,
    '--save',
    '',
    '--appendonly',
    'no',
    ...(s.redis.password ? ['--requirepass', s.redis.password] : []),
  ];
}

export function redisPingArgv(s: DevSettings): string[] {
  return [
    'redis-cli',
    '-h',
    s.redis.host,
    '-p',
    String(s.redis.port),
    ...(s.redis.password ? ['--no-auth-warning', '-a', s.redis.password] : []),
    'ping',
  ];
}

/** The backend's own commands, run in backendDir with the .env values in their environment. */
export const backendCommands = {
  migrate: ['bun', 'src/server.ts', 'migrate'],
  seed: ['bun', 'src/server.ts', 'seed'],
  serve: ['bun', '--watch', 'src/server.ts'],
} as const;

/** The backend's environment: .env, with the listen address the dev stack checked. */
export function backendEnv(env: EnvMap, s: DevSettings): EnvMap {
  return { ...env, HOST: s.app.host, PORT: String(s.app.port), APP_ENV: env.APP_ENV ?? 'development' };
}

export type Lock = { pid: number; startedAt: string; children: Record<string, number> };

/** What to do about an existing lock file: refuse (a live dev stack) or take it over (stale). */
export function lockDecision(
  existing: string | null,
  isAlive: (pid: number) => boolean,
): { action: 'take' } | { action: 'refuse'; message: string } | { action: 'stale'; lock: Lock } {
  if (existing === null) return { action: 'take' };
  let lock: Lock;
  try {
    lock = JSON.parse(existing);
  } catch {
    return { action: 'take' };
  }
  if (Number.isInteger(lock.pid) && isAlive(lock.pid))
    return {
      action: 'refuse',
      message: `npm run dev is already running (pid ${lock.pid}, since ${lock.startedAt}): use that one, or stop it with Ctrl-C`,
    };
  return { action: 'stale', lock };
}

/** The order in which the stack comes up; shutdown is the reverse of what started. */
export const START_ORDER = ['mariadb', 'redis', 'migrate', 'seed', 'backend'] as const;

/**
 * What --dry-run prints: the port checks and every command a start would run, in order, with the
 * passwords shown as ***.
 */
export function dryRunLines(
  s: DevSettings,
  o: { dataDir: string; backendDir: string; osUser: string; asRoot: boolean; initialised: boolean },
): string[] {
  const secrets = [s.db.password, s.redis.password].filter(Boolean);
  const show = (argv: readonly string[]) =>
    toShell(argv.map((a) => secrets.reduce((w, x) => w.replaceAll(x, '***'), a)));
  return [
    ...portsToCheck(s).map((p) => `check ${p.key}: ${p.host}:${p.port} is free`),
    ...(o.initialised ? [] : [show(mariadbInstallArgv(o.dataDir))]),
    show(mariadbdArgv(s, o.dataDir, o.asRoot)),
    show(mariadbAdminArgv(o.dataDir, o.osUser, bootstrapSql({ ...s, db: { ...s.db, password: '***' } }))),
    show(redisArgv(s, o.dataDir)),
    ...Object.values(backendCommands).map((cmd) => `(cd ${toShell([o.backendDir])} && ${show([...cmd])})`),
  ];
}
