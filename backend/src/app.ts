import type { MikroORM } from '@mikro-orm/mysql';
import type { Redis } from 'ioredis';
import Koa from 'koa';
import type { Config } from './config.ts';
import type { KillSwitchWatcher } from './kill-switch.ts';
import type { Logger } from './logger.ts';
import { type ErrorReporter, errorMapper } from './middleware/errors.ts';
import { killSwitchGuard, rateLimit } from './middleware/guards.ts';
import { jsonBody } from './middleware/json-body.ts';
import { requestContext } from './middleware/request-context.ts';
import { healthRouter, type Lifecycle } from './modules/health/health.routes.ts';
import { notesRouter } from './modules/notes/notes.routes.ts';
import { NotesService } from './modules/notes/notes.service.ts';
import type { InFlight } from './shutdown.ts';

export type Services = {
  config: Config;
  orm: MikroORM;
  redis: Redis;
  log: Logger;
  report: ErrorReporter;
  killSwitch: KillSwitchWatcher;
  lifecycle: Lifecycle;
  inFlight: InFlight;
};

/** Builds the Koa app from its services; nothing here opens connections or reads the env. */
export function buildApp(s: Services): Koa {
  const app = new Koa({ proxy: s.config.TRUST_PROXY });
  const health = healthRouter(
    s.lifecycle,
    [
      { name: 'database', check: () => s.orm.em.getConnection().execute('select 1') },
      { name: 'redis', check: () => s.redis.ping() },
    ],
    s.config.DEPENDENCY_TIMEOUT_MS,
    s.log,
  );
  const notes = notesRouter(new NotesService(s.redis, s.config.CACHE_TTL_SECONDS, s.log));

  app.use(s.inFlight.middleware());
  app.use(requestContext(s.config.RELEASE, s.log));
  app.use(errorMapper(s.log, s.report));
  app.use(health.routes());
  app.use(killSwitchGuard(s.killSwitch));
  app.use(rateLimit(s.redis, s.config.RATE_LIMIT_MAX, s.config.RATE_LIMIT_WINDOW_SECONDS, s.log));
  app.use(jsonBody(s.config.BODY_LIMIT_BYTES));
  app.use(async (ctx, next) => {
    ctx.state.em = s.orm.em.fork(); // one identity map per request
    await next();
  });
  app.use(notes.routes());
  app.use(notes.allowedMethods());
  return app;
}
