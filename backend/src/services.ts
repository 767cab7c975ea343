import { Redis } from 'ioredis';
import type { Services } from './app.ts';
import type { Config } from './config.ts';
import { initOrm } from './db.ts';
import { KillSwitchWatcher } from './kill-switch.ts';
import type { Logger } from './logger.ts';
import type { ErrorReporter } from './middleware/errors.ts';
import { InFlight } from './shutdown.ts';

export function createRedis(config: Pick<Config, 'REDIS_URL' | 'DEPENDENCY_TIMEOUT_MS'>): Redis {
  return new Redis(config.REDIS_URL, {
    connectTimeout: config.DEPENDENCY_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Fail fast while Redis is down instead of queueing requests behind a dead connection.
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    lazyConnect: true,
  });
}

/** Opens the process's connections; the caller owns closing them (see closeServices). */
export async function createServices(config: Config, log: Logger, report: ErrorReporter): Promise<Services> {
  const redis = createRedis(config);
  redis.on('error', (e) => log.warn('redis error', { error: String(e) }));
  // A Redis that is down at start-up is survivable (cache and limiter degrade), so don't wait on it.
  redis.connect().catch(() => {});
  const orm = await initOrm(config);
  const killSwitch = new KillSwitchWatcher(redis, config.KILL_SWITCH_FILE, config.KILL_SWITCH_POLL_MS, log);
  await killSwitch.start();
  return {
    config,
    orm,
    redis,
    log,
    report,
    killSwitch,
    lifecycle: { draining: false },
    inFlight: new InFlight(),
  };
}

export async function closeServices(s: Pick<Services, 'orm' | 'redis' | 'killSwitch'>): Promise<void> {
  s.killSwitch.stop();
  await Promise.allSettled([s.orm.close(true), s.redis.quit().catch(() => s.redis.disconnect())]);
}
