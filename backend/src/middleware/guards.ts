import type { Redis } from 'ioredis';
import type { Middleware } from 'koa';
import { HttpError, ServiceUnavailableError } from '../errors.ts';
import type { KillSwitchWatcher } from '../kill-switch.ts';
import type { Logger } from '../logger.ts';

const isHealth = (path: string) => path === '/healthz' || path === '/readyz';

/** While the kill switch is on, everything but health answers 503 with Retry-After. */
export function killSwitchGuard(watcher: KillSwitchWatcher, retryAfterSeconds = 30): Middleware {
  return async (ctx, next) => {
    if (!isHealth(ctx.path) && watcher.state.on) {
      throw new ServiceUnavailableError(
        'kill_switch',
        watcher.state.reason ?? 'temporarily disabled',
        retryAfterSeconds,
      );
    }
    await next();
  };
}

/**
 * Fixed-window rate limit per client address in Redis (INCR + EXPIRE in one MULTI), so the
 * limit holds across both colours during a deploy. If Redis is down the request goes through:
 * an outage of the limiter must not become an outage of the API.
 */
export function rateLimit(redis: Redis, max: number, windowSeconds: number, log: Logger): Middleware {
  return async (ctx, next) => {
    if (isHealth(ctx.path)) return next();
    const key = `app:rl:${ctx.ip}`;
    let count = 0;
    let ttl = windowSeconds;
    try {
      const res = await redis.multi().incr(key).expire(key, windowSeconds, 'NX').ttl(key).exec();
      count = Number(res?.[0]?.[1] ?? 0);
      ttl = Math.max(1, Number(res?.[2]?.[1] ?? windowSeconds));
    } catch (e) {
      log.warn('rate limit skipped: redis unavailable', { error: String(e) });
      return next();
    }
    ctx.set('RateLimit-Limit', String(max));
    ctx.set('RateLimit-Remaining', String(Math.max(0, max - count)));
    if (count > max) {
      throw new HttpError(429, 'rate_limited', `more than ${max} requests in ${windowSeconds} s`, undefined, {
        'Retry-After': String(ttl),
      });
    }
    await next();
  };
}
