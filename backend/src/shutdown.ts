import type { Server } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from './logger.ts';
import type { Lifecycle } from './modules/health/health.routes.ts';

/** Counts requests in flight so shutdown can wait for exactly those. */
export class InFlight {
  count = 0;
  #idle: Array<() => void> = [];

  middleware(): Middleware {
    return async (_ctx, next) => {
      this.count++;
      try {
        await next();
      } finally {
        if (--this.count === 0) for (const resolve of this.#idle.splice(0)) resolve();
      }
    };
  }

  /** Resolves true when nothing is in flight, false if the deadline came first. */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/**
 * SIGTERM: /readyz turns 503 at once, the listener stops taking connections, requests in flight
 * get up to drainMs to finish, then the dependencies close and the process exits 0.
 */
export function gracefulShutdown(opts: {
  server: Server;
  lifecycle: Lifecycle;
  inFlight: InFlight;
  drainMs: number;
  close: () => Promise<void>;
  log: Logger;
  exit?: (code: number) => void;
}): (signal: string) => Promise<void> {
  let started = false;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  return async (signal) => {
    if (started) return;
    started = true;
    const t0 = performance.now();
    opts.lifecycle.draining = true;
    opts.log.info('shutdown: draining', { signal, inFlight: opts.inFlight.count, drainMs: opts.drainMs });
    opts.server.close();
    opts.server.closeIdleConnections?.();
    const drained = await opts.inFlight.settled(opts.drainMs);
    if (!drained)
      opts.log.warn('shutdown: drain time over, closing remaining connections', {
        inFlight: opts.inFlight.count,
      });
    opts.server.closeAllConnections?.();
    await opts.close();
    opts.log.info('shutdown: done', { drained, ms: Math.round(performance.now() - t0) });
    exit(0);
  };
}
