import { createServer } from 'node:http';
import { buildApp } from './app.ts';
import { type Command, parseCommand, USAGE, UsageError } from './cli.ts';
import { ConfigError, loadConfig } from './config.ts';
import { initOrm } from './db.ts';
import { readKillSwitch, setKillSwitch } from './kill-switch.ts';
import { createLogger } from './logger.ts';
import { migrations } from './migrations/index.ts';
import { seedSampleNotes } from './seed.ts';
import { initErrorTracking } from './sentry.ts';
import { closeServices, createRedis, createServices } from './services.ts';
import { gracefulShutdown } from './shutdown.ts';

// Entry point: one binary, several commands (see cli.ts). Each exits with a code that tells the truth.
async function serve() {
  const config = loadConfig();
  const log = createLogger({ release: config.RELEASE, env: config.APP_ENV });
  const tracking = await initErrorTracking(config);
  const services = await createServices(config, log, tracking.report);
  const app = buildApp(services);
  const server = createServer(app.callback());
  const shutdown = gracefulShutdown({
    server,
    lifecycle: services.lifecycle,
    inFlight: services.inFlight,
    drainMs: config.DRAIN_TIMEOUT_MS,
    close: async () => {
      await closeServices(services);
      await tracking.flush();
    },
    log,
  });
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  server.listen(config.PORT, config.HOST, () =>
    log.info('listening', { host: config.HOST, port: config.PORT }),
  );
}

async function migrate(dryRun: boolean) {
  const config = loadConfig();
  const orm = await initOrm(config);
  try {
    const pending = await orm.migrator.getPending();
    if (dryRun) {
      // The SQL each pending migration would run, so the deploy can refuse a destructive one
      // (docs/app-contract.md); nothing is executed.
      const statements: Record<string, string[]> = {};
      for (const p of pending) {
        const entry = migrations.find((m) => m.name === p.name);
        if (!entry) continue;
        const m = new entry.class(orm.em.getDriver(), orm.config);
        await m.up();
        statements[p.name] = m.getQueries().map((q) => (typeof q === 'string' ? q : q.toString()));
      }
      console.log(JSON.stringify({ pending: pending.map((m) => m.name), statements }));
      return;
    }
    const applied = await orm.migrator.up();
    console.log(JSON.stringify({ applied: applied.map((m) => m.name) }));
  } finally {
    await orm.close(true);
  }
}

async function seed() {
  const config = loadConfig();
  const orm = await initOrm(config);
  try {
    console.log(JSON.stringify(await seedSampleNotes(orm.em.fork())));
  } finally {
    await orm.close(true);
  }
}

async function killSwitch(action: 'on' | 'off' | 'status', reason?: string) {
  const config = loadConfig();
  const redis = createRedis(config);
  redis.on('error', () => {}); // reported through the outcome below
  await redis.connect().catch(() => {});
  try {
    if (action !== 'status') {
      const outcome = await setKillSwitch(redis, config.KILL_SWITCH_FILE, action === 'on', reason);
      console.log(JSON.stringify({ action, ...outcome }));
    }
    console.log(JSON.stringify(await readKillSwitch(redis, config.KILL_SWITCH_FILE)));
  } finally {
    redis.disconnect();
  }
}

async function healthcheck(ready: boolean) {
  const port = Number(process.env.PORT ?? 3000);
  const path = ready ? '/readyz' : '/healthz';
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
}

async function run(command: Command) {
  switch (command.name) {
    case 'help':
      return console.log(USAGE);
    case 'serve':
      return serve();
    case 'migrate':
      return migrate(command.dryRun);
    case 'seed':
      return seed();
    case 'kill-switch':
      return killSwitch(command.action, command.reason);
    case 'healthcheck':
      return healthcheck(command.ready);
  }
}

try {
  await run(parseCommand(process.argv.slice(2)));
} catch (e) {
  if (e instanceof UsageError) console.error(`${e.message}\n\n${USAGE}`);
  else if (e instanceof ConfigError) console.error(e.message);
  else console.error(`error: ${(e as Error).message ?? e}`);
  process.exit(e instanceof UsageError ? 2 : 1);
}
