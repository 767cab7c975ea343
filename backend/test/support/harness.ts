import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, inject } from 'vitest';
import { buildApp, type Services } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { initOrm } from '../../src/db.ts';
import { createLogger } from '../../src/logger.ts';
import { closeServices, createServices } from '../../src/services.ts';

// Per-test-file helpers on top of the global MariaDB and Redis: a fresh database, the real app
// on a loopback port, and the log lines it wrote.

export async function createDatabase(
  migrate = true,
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = await mysql.createConnection(inject('mysqlAdminUrl'));
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = `${inject('mysqlAdminUrl')}/${name}`;
  if (migrate) {
    const orm = await initOrm({ DATABASE_URL: url, DATABASE_POOL_MAX: 1, DEPENDENCY_TIMEOUT_MS: 2_000 });
    await orm.migrator.up();
    await orm.close(true);
  }
  return {
    url,
    name,
    drop: async () => {
      const c = await mysql.createConnection(inject('mysqlAdminUrl'));
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    },
  };
}

export type RunningApp = {
  url: string;
  services: Services;
  logs: Record<string, unknown>[];
  server: Server;
  close: () => Promise<void>;
};

/** The real app (real ORM, real Redis) listening on a free loopback port. */
export async function startApp(
  env: Record<string, string>,
  opts = { waitForRedis: true },
): Promise<RunningApp> {
  const config: Config = loadConfig({
    APP_ENV: 'test',
    REDIS_URL: inject('redisUrl'),
    KILL_SWITCH_FILE: `/tmp/e2m-test-ks-${randomBytes(4).toString('hex')}`,
    RELEASE: 'test-release',
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => {
    logs.push(JSON.parse(line));
  });
  const services = await createServices(config, log, () => {});
  if (opts.waitForRedis) await waitUntil(() => services.redis.status === 'ready', 5_000);
  const server = createServer(buildApp(services).callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    services,
    logs,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await closeServices(services);
    },
  };
}

export async function waitUntil(
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 20,
): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await probe()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

export const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * For a test file: one migrated database, a Redis client, and `app(env)` starting as many app
 * instances on it as the tests need (two colours, a broken Redis...), all closed afterwards.
 */
export function appFixture() {
  const ctx = {} as { db: Awaited<ReturnType<typeof createDatabase>>; redis: Redis };
  const apps: RunningApp[] = [];
  beforeAll(async () => {
    ctx.db = await createDatabase();
    ctx.redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    ctx.redis?.disconnect();
    await ctx.db?.drop();
  });
  const app = async (env: Record<string, string> = {}, waitForRedis = true) => {
    const a = await startApp({ DATABASE_URL: ctx.db.url, RATE_LIMIT_MAX: '10000', ...env }, { waitForRedis });
    apps.push(a);
    return a;
  };
  return { ctx, app };
}
