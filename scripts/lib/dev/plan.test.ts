import { describe, expect, it } from 'vitest';
import {
  backendCommands,
  backendEnv,
  bootstrapSql,
  devSettings,
  dryRunLines,
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

const env = parseEnv(
  [
    '# comment',
    'DATABASE_URL=mysql://app:s3cret@127.0.0.1:3307/notes',
    "REDIS_URL='redis://:pw@localhost:6380'",
    'PORT=4000',
    'HOST=0.0.0.0',
    'EMPTY=',
  ].join('\n'),
);

describe('parseEnv', () => {
  it('reads KEY=value lines, strips quotes, skips comments', () => {
    expect(env).toEqual({
      DATABASE_URL: 'mysql://app:s3cret@127.0.0.1:3307/notes',
      REDIS_URL: 'redis://:pw@localhost:6380',
      PORT: '4000',
      HOST: '0.0.0.0',
      EMPTY: '',
    });
  });
});

describe('devSettings', () => {
  it('derives both servers from the keys the backend reads', () => {
    expect(devSettings(env)).toEqual({
      db: { host: '127.0.0.1', port: 3307, user: 'app', password: 's3cret', database: 'notes' },
      redis: { host: '127.0.0.1', port: 6380, password: 'pw' },
      app: { host: '127.0.0.1', port: 4000 },
    });
  });

  it('takes the .env.example defaults as they are', () => {
    const s = devSettings({
      DATABASE_URL: 'mysql://app:change-me@127.0.0.1:3306/app',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(s.db.port).toBe(3306);
    expect(s.redis).toEqual({ host: '127.0.0.1', port: 6379, password: '' });
    expect(s.app).toEqual({ host: '127.0.0.1', port: 3000 });
  });

  it('names the key that is wrong', () => {
    const base = { DATABASE_URL: env.DATABASE_URL, REDIS_URL: env.REDIS_URL };
    expect(() => devSettings({ REDIS_URL: env.REDIS_URL })).toThrow('DATABASE_URL is missing from .env');
    expect(() => devSettings({ ...base, DATABASE_URL: 'postgres://a:b@127.0.0.1/x' })).toThrow(
      'DATABASE_URL must start with mysql://',
    );
    expect(() => devSettings({ ...base, DATABASE_URL: 'mysql://a:b@10.0.0.5:3306/x' })).toThrow(
      'DATABASE_URL must point at 127.0.0.1',
    );
    expect(() => devSettings({ ...base, DATABASE_URL: 'mysql://root:b@127.0.0.1/x' })).toThrow(
      'DATABASE_URL must not use root',
    );
    expect(() => devSettings({ ...base, REDIS_URL: 'not a url' })).toThrow('REDIS_URL is not a URL');
    expect(() => devSettings({ ...base, PORT: '70000' })).toThrow('PORT must be a port number');
  });
});

describe('ports', () => {
  it('are named by their .env key', () => {
    expect(portsToCheck(devSettings(env)).map((p) => `${p.key}=${p.port}`)).toEqual([
      'DATABASE_URL=3307',
      'REDIS_URL=6380',
      'PORT=4000',
    ]);
    expect(portInUseMessage({ key: 'DATABASE_URL', port: 3306 })).toBe(
      'DATABASE_URL port 3306 is in use: stop what listens there or change DATABASE_URL in .env',
    );
  });
});

describe('commands', () => {
  const s = devSettings(env);
  it('run MariaDB on loopback with its data in the data directory', () => {
    expect(mariadbInstallArgv('/d')).toEqual([
      'mariadb-install-db',
      '--no-defaults',
      '--datadir=/d/mariadb',
      '--auth-root-authentication-method=socket',
      '--skip-test-db',
    ]);
    expect(mariadbdArgv(s, '/d', false)).toEqual([
      'mariadbd',
      '--no-defaults',
      '--datadir=/d/mariadb',
      '--socket=/d/mariadb.sock',
      '--port=3307',
      '--bind-address=127.0.0.1',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=64M',
      '--pid-file=/d/mariadb/mariadbd.pid',
    ]);
    expect(mariadbdArgv(s, '/d', true)).toContain('--user=root');
    expect(mariadbAdminArgv('/d', 'dev', 'SELECT 1')).toEqual([
      'mariadb',
      '--no-defaults',
      '--socket=/d/mariadb.sock',
      '-udev',
      '-e',
      'SELECT 1',
    ]);
  });

  it('create the app user idempotently, quoting the password', () => {
    expect(bootstrapSql(s)).toBe(
      "CREATE DATABASE IF NOT EXISTS `notes`; CREATE USER IF NOT EXISTS 'app'@'127.0.0.1' IDENTIFIED BY 's3cret'; " +
        "ALTER USER 'app'@'127.0.0.1' IDENTIFIED BY 's3cret'; GRANT ALL ON `notes`.* TO 'app'@'127.0.0.1'",
    );
    const odd = { ...s, db: { ...s.db, password: "it's\\" } };
    expect(bootstrapSql(odd)).toContain("IDENTIFIED BY 'it\\'s\\\\'");
  });

  it('run Redis without persistence, with the password from REDIS_URL', () => {
    expect(redisArgv(s, '/d')).toEqual([
      'redis-server',
      '--port',
      '6380',
      '--bind',
      '127.0.0.1',
      '--dir',
      '/d/redis',
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      'pw',
    ]);
    expect(redisPingArgv(s)).toEqual([
      'redis-cli',
      '-h',
      '127.0.0.1',
      '-p',
      '6380',
      '--no-auth-warning',
      '-a',
      'pw',
      'ping',
    ]);
  });

  it('run the backend through its own CLI, the server under bun --watch', () => {
    expect(backendCommands.serve).toEqual(['bun', '--watch', 'src/server.ts']);
    expect(backendCommands.migrate).toEqual(['bun', 'src/server.ts', 'migrate']);
    expect(backendCommands.seed).toEqual(['bun', 'src/server.ts', 'seed']);
    expect(backendEnv(env, s)).toMatchObject({ HOST: '127.0.0.1', PORT: '4000', APP_ENV: 'development' });
  });
});

describe('dryRunLines', () => {
  it('the port checks and every command in order, passwords as ***', () => {
    const o = { dataDir: '/d', backendDir: '/b', osUser: 'me', asRoot: false, initialised: false };
    const lines = dryRunLines(devSettings(env), o);
    expect(lines.slice(0, 3)).toEqual([
      'check DATABASE_URL: 127.0.0.1:3307 is free',
      'check REDIS_URL: 127.0.0.1:6380 is free',
      'check PORT: 127.0.0.1:4000 is free',
    ]);
    expect(lines[3]).toMatch(/^mariadb-install-db --no-defaults --datadir=\/d\/mariadb /);
    expect(lines.slice(-3)).toEqual([
      '(cd /b && bun src/server.ts migrate)',
      '(cd /b && bun src/server.ts seed)',
      '(cd /b && bun --watch src/server.ts)',
    ]);
    expect(lines.join('\n')).not.toMatch(/s3cret|:pw@|'pw'/);
    expect(lines.join('\n')).toContain("IDENTIFIED BY '\\''***'\\''");
    // An initialised data directory is not initialised again.
    expect(dryRunLines(devSettings(env), { ...o, initialised: true })).toHaveLength(lines.length - 1);
  });
});

describe('lockDecision', () => {
  const lock = JSON.stringify({ pid: 42, startedAt: '2026-01-01T00:00:00.000Z', children: { redis: 43 } });
  it('takes a missing or unreadable lock', () => {
    expect(lockDecision(null, () => true)).toEqual({ action: 'take' });
    expect(lockDecision('garbage', () => true)).toEqual({ action: 'take' });
  });
  it('refuses while the owner lives, saying who', () => {
    expect(lockDecision(lock, (pid) => pid === 42)).toEqual({
      action: 'refuse',
      message:
        'npm run dev is already running (pid 42, since 2026-01-01T00:00:00.000Z): use that one, or stop it with Ctrl-C',
    });
  });
  it('takes over a stale lock, keeping what it listed', () => {
    expect(lockDecision(lock, () => false)).toMatchObject({ action: 'stale', lock: { pid: 42 } });
  });
});
