import type { Middleware } from 'koa';
import { HttpError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export type ErrorReporter = (error: unknown, context: Record<string, unknown>) => void;

/** Maps domain errors to their status; anything else is a 500, logged and reported. */
export function errorMapper(log: Logger, report: ErrorReporter): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof HttpError) {
        ctx.status = error.status;
        ctx.set(error.headers);
        ctx.body = { error: error.code, message: error.message, ...(error.details ?? {}) };
        return;
      }
      ctx.status = 500;
      ctx.body = { error: 'internal', message: 'internal error', requestId: ctx.state.requestId };
      log.error('unhandled error', {
        requestId: ctx.state.requestId,
        error: String(error),
        stack: (error as Error)?.stack,
      });
      report(error, { requestId: ctx.state.requestId, method: ctx.method, path: ctx.path });
    }
  };
}
