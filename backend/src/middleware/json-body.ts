import type { Middleware } from 'koa';
import getRawBody from 'raw-body';
import { HttpError } from '../errors.ts';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** Reads a JSON body with a hard size limit: 413 over it, 415 for other types, 400 for bad JSON. */
export function jsonBody(limitBytes: number): Middleware {
  return async (ctx, next) => {
    if (!WITH_BODY.has(ctx.method)) return next();
    if (!ctx.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    }
    let raw: string;
    try {
      raw = await getRawBody(ctx.req, {
        limit: limitBytes,
        length: ctx.get('content-length') || undefined,
        encoding: 'utf8',
      });
    } catch (e) {
      const err = e as { type?: string; status?: number };
      if (err.type === 'entity.too.large') {
        throw new HttpError(413, 'payload_too_large', `body is larger than ${limitBytes} bytes`);
      }
      throw new HttpError(err.status ?? 400, 'bad_body', 'could not read the request body');
    }
    try {
      ctx.state.body = raw.length ? JSON.parse(raw) : undefined;
    } catch {
      throw new HttpError(400, 'bad_json', 'body is not valid JSON');
    }
    await next();
  };
}
