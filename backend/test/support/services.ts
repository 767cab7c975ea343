import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

// Vitest global setup: a real MariaDB and a real Redis from Debian's packages, on free loopback
// ports, with throwaway data directories; stopped and deleted when the run ends.

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlAdminUrl: string;
    redisUrl: string;
    redisPort: number;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('error', (e) =>
      reject(
        new Error(`${cmd}: ${e.message} (is the Debian package installed? see .ci/install.d/10-apt.sh)`),
      ),
    );
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

export type Services = {
  mysqlAdminUrl: string;
  redisUrl: string;
  redisPort: number;
  /** SIGKILL MariaDB: a VM lost mid-write, for the point-in-time recovery bench. */
  crashMariadb: () => void;
  stop: () => Promise<void>;
};

/** Starts the pair; also used by the benchmarks. */
export async function startServices(): Promise<Services> {
  const dir = await mkdtemp(join(tmpdir(), 'e2m-test-'));
  const children: ChildProcess[] = [];
  const mysqlPort = await freePort();
  const redisPort = await freePort();

  await run('mariadb-install-db', [
    `--datadir=${dir}/mysql`,
    '--user=root',
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
  ]);
  const mysqld = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${dir}/mysql`,
      `--socket=${dir}/mysql.sock`,
      `--port=${mysqlPort}`,
      '--bind-address=127.0.0.1',
      '--user=root',
      // Binary logs on, as on the VM (point-in-time recovery, test/backup/pitr.test.ts).
      `--log-bin=${dir}/mysql/e2m-bin`,
      '--binlog-format=ROW',
      '--server-id=1',
      '--innodb-buffer-pool-size=64M',
      '--innodb-flush-log-at-trx-commit=2',
    ],
    { stdio: 'ignore' },
  );
  children.push(mysqld);
  const redis = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  children.push(redis);

  const mysql = await import('mysql2/promise');
  await waitFor('mariadb', async () => {
    const c = await mysql.createConnection({ socketPath: `${dir}/mysql.sock`, user: 'root' });
    await c.query("CREATE USER IF NOT EXISTS 'test'@'127.0.0.1' IDENTIFIED BY 'test'");
    // With GRANT OPTION: it stands in for the VM's root, which creates the backup role's users.
    await c.query("GRANT ALL ON *.* TO 'test'@'127.0.0.1' WITH GRANT OPTION");
    await c.end();
    return true;
  });
  const { Redis } = await import('ioredis');
  await waitFor('redis', async () => {
    const r = new Redis(redisPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    const pong = await r.ping();
    r.disconnect();
    return pong === 'PONG';
  });

  return {
    mysqlAdminUrl: `mysql://test:test@127.0.0.1:${mysqlPort}`,
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    redisPort,
    crashMariadb: () => mysqld.kill('SIGKILL'),
    stop: async () => {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(
        children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('exit', r)))),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject) {
  const s = await startServices();
  project.provide('mysqlAdminUrl', s.mysqlAdminUrl);
  project.provide('redisUrl', s.redisUrl);
  project.provide('redisPort', s.redisPort);
  return s.stop;
}
