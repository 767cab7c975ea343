import type { Server } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from './logger.ts';
import type { Lifecycle } from './modules/health/health.routes.ts';

/** Counts requests in flight so shutdown can wait for exactly those. */
export class InFlight {
  count = 0;
  #idle: Array<() => void> = [];

  middleware(): Middleware {
    // Done means the response left the process ('close' follows 'finish', or an abort), not just
    // that the middleware returned: Koa writes the body after the chain resolves.
    return async (ctx, next) => {
      this.count++;
      ctx.res.once('close', () => {
        if (--this.count === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
      await next();
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
 * SIGTERM: /readyz turns 503 at once while the listener stays open, so a proxy or load balancer
 * polling it sees the drain; once the requests in flight are done (or drainMs has passed) the
 * listener and every connection close, the dependencies close, and the process exits 0.
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
    const drained = await opts.inFlight.settled(opts.drainMs);
    if (!drained)
      opts.log.warn('shutdown: drain time over, closing remaining connections', {
        inFlight: opts.inFlight.count,
      });
    opts.server.close();
    opts.server.closeAllConnections();
    await opts.close();
    opts.log.info('shutdown: done', { drained, ms: Math.round(performance.now() - t0) });
    exit(0);
  };
}
