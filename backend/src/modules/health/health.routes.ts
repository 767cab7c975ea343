import Router from '@koa/router';
import { withTimeout } from '../../kill-switch.ts';
import type { Logger } from '../../logger.ts';

export type Lifecycle = { draining: boolean };
export type DependencyCheck = { name: string; check: () => Promise<unknown> };

/**
 * Pure: a short code for a failed check. The 503 body carries only this; the error's own text
 * (addresses, user names) goes to the log, where the operator reads it.
 */
export function failureCode(e: unknown): string {
  const err = e as { message?: unknown; code?: unknown };
  if (typeof err?.message === 'string' && err.message.startsWith('timed out after ')) return 'timeout';
  if (typeof err?.code === 'string' && /^E[A-Z0-9_]{1,30}$/.test(err.code)) return err.code;
  return 'error';
}

/**
 * /healthz: the process is alive (no dependencies, so a slow database never gets it restarted).
 * /readyz: it can serve: not draining, and every dependency answers within the timeout; a 503
 * names what failed with a short code so the deploy and the operator see why. The proxy answers
 * /readyz only to the VM itself (ansible/roles/caddy/templates/Caddyfile.j2).
 */
export function healthRouter(
  lifecycle: Lifecycle,
  deps: DependencyCheck[],
  timeoutMs: number,
  log: Logger,
): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    if (lifecycle.draining) {
      ctx.status = 503;
      ctx.body = { status: 'draining' };
      return;
    }
    const results = await Promise.all(
      deps.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), timeoutMs);
          return { name, ok: true as const };
        } catch (e) {
          log.warn('readyz: dependency failed', { dependency: name, error: String(e) });
          return { name, ok: false as const, code: failureCode(e) };
        }
      }),
    );
    const failed = results.filter((r) => !r.ok);
    ctx.status = failed.length ? 503 : 200;
    ctx.body = {
      status: failed.length ? 'unavailable' : 'ok',
      ...(failed.length ? { failed: failed.map((f) => f.name) } : {}),
      checks: Object.fromEntries(results.map((r) => [r.name, r.ok ? 'ok' : r.code])),
    };
  });
  return router;
}
